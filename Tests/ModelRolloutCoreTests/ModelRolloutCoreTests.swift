import Testing

@testable import ModelRolloutCore

@Test func rulesVersionIsSet() {
    #expect(!ModelRolloutCore.rulesVersion.isEmpty)
}
