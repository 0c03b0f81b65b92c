import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A minimal blocking HTTP/1.1 client over a POSIX socket for loopback tests: it makes "connection refused"
/// observable and decodes chunked bodies (SSE streams).
enum LoopbackHTTP {
    struct Failure: Error, CustomStringConvertible {
        var errno: Int32
        var message: String
        var description: String { "\(message) (errno \(errno))" }
        var isConnectionRefused: Bool { errno == ECONNREFUSED }
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// Runs the blocking exchange on a Dispatch thread, never on Swift's cooperative pool (which has only as
    /// many threads as cores: two blocked tests would starve the servers they talk to).
    static func request(
        host: String, port: Int, method: String = "GET", path: String, body: String? = nil
    ) async throws -> Reply {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result { try requestBlocking(host: host, port: port, method: method, path: path, body: body) })
            }
        }
    }

    static func requestBlocking(
        host: String, port: Int, method: String = "GET", path: String, body: String? = nil
    ) throws -> Reply {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(errno: errno, message: "socket") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw Failure(errno: 0, message: "bad host") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(errno: errno, message: "connect") }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        if let body {
            text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        }
        text += "\r\n" + (body ?? "")
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure(errno: errno, message: "send") }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 { throw Failure(errno: errno, message: "recv") }
            if n == 0 { break }
            received += buffer[0..<n]
        }
        return try parse(received)
    }

    static func parse(_ bytes: [UInt8]) throws -> Reply {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
            throw Failure(errno: 0, message: "no header end")
        }
        let head = String(decoding: bytes[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        var body = Array(bytes[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var decoded: [UInt8] = []
            var index = 0
            while index < body.count {
                guard let lineEnd = (index..<body.count - 1).first(where: { body[$0] == 13 && body[$0 + 1] == 10 })
                else { break }
                let size = Int(String(decoding: body[index..<lineEnd], as: UTF8.self), radix: 16) ?? 0
                if size == 0 { break }
                decoded += body[(lineEnd + 2)..<min(body.count, lineEnd + 2 + size)]
                index = lineEnd + 2 + size + 2
            }
            body = decoded
        }
        return Reply(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }
}

/// A loopback address unlikely to collide with concurrent test runs: 127.<a>.<b>.<c> from random octets.
func uniqueLoopbackHost() -> String {
    "127.\(Int.random(in: 100...250)).\(Int.random(in: 1...250)).\(Int.random(in: 2...250))"
}
