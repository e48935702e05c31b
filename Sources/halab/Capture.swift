import ArgumentParser
import Foundation
import HALab
import HALabModel
import HALabSystem

struct Capture: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Capture a segment (every frame that enters its switch) or a node's interface, into a pcap file and/or as "
                + "decoded VRRP adverts.",
        discussion: """
            Without -w, the adverts are printed as they come and no file is kept. It stops after --seconds, or on \
            Ctrl-C, and leaves no process behind. Open the file with Wireshark or 'tcpdump -r FILE'.
            """)

    @OptionGroup var options: LabOption

    @Argument(help: "A segment, a node (its first interface) or NODE:INTERFACE (default: the lab's first segment).")
    var target: String?

    @Option(name: .customShort("w"), help: ArgumentHelp("Write the frames to this pcap file.", valueName: "file.pcap"))
    var file: String?

    @Flag(
        help:
            ArgumentHelp("Print each VRRP advert as it is seen: time, sender, VRID, version, priority, interval, "
                + "authentication, addresses.")
    )
    var vrrp = false

    @Option(help: "Stop after this many seconds.")
    var seconds: Double?

    func run() async throws {
        guard geteuid() == 0 else { throw HALabError.notRoot }
        let session = try options.session()
        let point = try session.capturePoint(target)
        let path =
            file.map { URL(fileURLWithPath: $0).path }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("halab-capture-\(getpid()).pcap").path
        defer { if file == nil { try? FileManager.default.removeItem(atPath: path) } }
        let printing = vrrp || file == nil
        let stop = StopSignal()
        let interrupts = StopOnInterrupt(stop)
        defer { interrupts.cancel() }
        let limit = seconds
        // Written at once, not buffered: a pipe sees each advert as it passes. A reader that goes
        // away (`| head`) ends the capture as Ctrl-C does, rather than killing it half-way.
        signal(SIGPIPE, SIG_IGN)
        let show = { @Sendable (advert: VRRPAdvert) in
            do { try FileHandle.standardOutput.write(contentsOf: Data((session.describe(advert) + "\n").utf8)) } catch {
                Task { await stop.fire() }
            }
        }
        var reader = try await session.capturing([CaptureFile(point: point, path: path)]) {
            progress(
                "capturing at \(point) of \(session.lab.name)" + (limit.map { " for \($0) s" } ?? "") + "; Ctrl-C stops"
            )
            var reader = AdvertReader(path: path)
            let deadline = limit.map { ContinuousClock.now + .seconds($0) }
            while await !stop.hasFired, deadline.map({ ContinuousClock.now < $0 }) ?? true {
                for advert in try reader.read() where printing { show(advert) }
                try await Task.sleep(for: .milliseconds(100))
            }
            return reader
        }
        for advert in try reader.read() where printing { show(advert) }
        let adverts = try AdvertReader.adverts(in: path).count
        progress("\(adverts) VRRP adverts" + (file.map { "; frames written to \($0)" } ?? ""))
    }
}
