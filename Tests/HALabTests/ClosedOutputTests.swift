import Foundation
import Testing

/// Whoever reads halab's output may go away first (a CI runner, a killed test run): halab
/// finishes its work, or undoes it on SIGINT, rather than die of SIGPIPE half-way (a killed test
/// run left an all-pairs run's instances up that way).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: E2E.halab), "needs halab built ('swift build')"))
struct ClosedOutputTests {
    @Test func halabOutlivesTheReaderOfItsOutput() throws {
        let halab = Process()
        halab.executableURL = URL(fileURLWithPath: E2E.halab)
        halab.arguments = ["check", "\(KeepalivedConfigTests.labs)/master-backup", "--no-keepalived"]
        let output = Pipe()
        halab.standardOutput = output
        halab.standardError = output
        try output.fileHandleForReading.close()  // nobody reads: every write meets a closed pipe
        try halab.run()
        halab.waitUntilExit()
        #expect(halab.terminationReason == .exit, "killed by signal \(halab.terminationStatus)")
        #expect(halab.terminationStatus == 1)  // check's own verdict on the document's design (its pidof misses a hang)
    }
}
