import Foundation

/// A process the simulated kubelet runs for a container.
public protocol SimulatedProcess: Sendable {
    /// Starts it (returns at once; the process runs in the background).
    func start() async
    /// Waits until the process ends by itself or is stopped; returns the exit code.
    func waitForExit() async -> Int32
    /// Stops it (idempotent).
    func stop() async
}

extension SimulatedVLLM: SimulatedProcess {}

/// A container process that is not vLLM: it logs a couple of lines and runs until stopped.
public actor GenericProcess: SimulatedProcess {
    private let image: String
    private let log: @Sendable (String) async -> Void
    private var stopped = false
    private var waiters: [CheckedContinuation<Int32, Never>] = []

    public init(image: String, log: @escaping @Sendable (String) async -> Void) {
        self.image = image
        self.log = log
    }

    public func start() async {
        await log("Starting \(image)")
        await log("Ready to accept connections")
    }

    public func waitForExit() async -> Int32 {
        if stopped { return 0 }
        return await withCheckedContinuation { waiters.append($0) }
    }

    public func stop() async {
        guard !stopped else { return }
        stopped = true
        for waiter in waiters { waiter.resume(returning: 0) }
        waiters = []
    }
}
