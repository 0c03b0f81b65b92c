import Testing
@testable import KubeCore
