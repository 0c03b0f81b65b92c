import Testing
@testable import ClusterSim
