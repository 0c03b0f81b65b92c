import Testing

@testable import ModelRolloutController

@Suite struct ControllerOptionsTests {
    @Test func defaultsWatchTheServingNamespaceDirectly() {
        let options = ControllerOptions()
        #expect(options.namespaces == ["llm-serving"])
        #expect(options.podAccess == .direct)
        #expect(PodAccess(rawValue: "proxy") == .proxy)
    }
}
