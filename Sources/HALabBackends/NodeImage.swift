import Foundation
import HALabSystem

/// The VM image halab builds from this machine's own packages, for the libvirt backend: the
/// machine's kernel and one initramfs holding busybox, nginx, keepalived, iproute2, nftables,
/// iptables, curl, ping, the QEMU guest agent and halab-init (each with the libraries it
/// links), plus the kernel modules a node needs. A node boots it with a small second archive
/// of its own files appended (`nodeInitramfs`).
public struct NodeImage: Sendable {
    public let folder: String

    public init(folder: String = "/var/lib/halab/image") { self.folder = folder }

    public var kernel: String { "\(folder)/vmlinuz" }
    public var initramfs: String { "\(folder)/initramfs.cpio" }
    var manifestFile: String { "\(folder)/image.json" }

    /// What `build` found out, kept next to the image.
    public struct Manifest: Codable, Sendable, Equatable {
        public var kernelVersion: String
        public var megabytes: Int
        /// The names of the programs it holds (nil in an image built before it said).
        public var programs: [String]?
    }

    public var manifest: Manifest? {
        FileManager.default.contents(atPath: manifestFile).flatMap {
            try? JSONDecoder().decode(Manifest.self, from: $0)
        }
    }

    /// The image if it was built, or the fix.
    public func require() throws -> Manifest {
        guard let manifest, FileSystem.exists(kernel), FileSystem.exists(initramfs) else {
            throw HALabError.missingProgram("the VM node image (\(folder))", fix: "build it with 'halab image build'")
        }
        return manifest
    }

    /// Programs every node has, with their libraries. iptables is xtables-nft-multi under its names.
    static let programs = [
        "/bin/dash", "/usr/sbin/nginx", "/usr/sbin/keepalived", "/usr/sbin/ip", "/usr/sbin/nft", "/usr/sbin/tc",
        "/usr/bin/curl", "/usr/bin/ping", "/usr/sbin/qemu-ga", "/usr/sbin/xtables-nft-multi"
    ]
    /// Programs put in when this machine has them: services a lab may run.
    /// nc (OpenBSD's, as `nc -z` checks want it) where the machine has it.
    static let optionalPrograms = ["/usr/sbin/haproxy", "/bin/nc.openbsd"]
    /// Folders copied whole: nginx's files and modules, iptables' extensions, iproute2's tables.
    static let folders = [
        "/etc/nginx", "/usr/share/nginx", "/usr/lib/nginx", "/usr/lib/x86_64-linux-gnu/xtables", "/usr/share/iproute2"
    ]
    /// Kernel modules: virtio devices, netfilter (iptables and nft), queueing disciplines, bonding, bridges.
    static let moduleFolders = [
        "kernel/drivers/virtio", "kernel/drivers/net/virtio_net.ko", "kernel/drivers/net/net_failover.ko",
        "kernel/drivers/net/bonding", "kernel/net/bridge/bridge.ko",
        "kernel/net/core/failover.ko", "kernel/drivers/char/virtio_console.ko", "kernel/net/netfilter",
        "kernel/net/ipv4/netfilter", "kernel/net/ipv6/netfilter", "kernel/net/sched",
        "kernel/crypto/crc32c_generic.ko"
    ]
    static let packages = [
        "/bin/busybox": "busybox-static", "/usr/sbin/qemu-ga": "qemu-guest-agent", "/usr/sbin/nft": "nftables",
        "/usr/sbin/xtables-nft-multi": "iptables", "/usr/bin/ping": "iputils-ping", "/usr/sbin/tc": "iproute2",
        "/usr/bin/cpio": "cpio", "/usr/sbin/depmod": "kmod", "/usr/bin/curl": "curl"
    ]

    /// Builds the image from this machine's kernel and programs. `helpers` are halab-init and
    /// halab-probe, put in /usr/local/sbin.
    public func build(helpers: [String], progress: @Sendable (String) -> Void) async throws -> Manifest {
        let (kernelFile, version) = try Self.newestKernel()
        for program in Self.programs + ["/bin/busybox", "/usr/bin/cpio", "/usr/sbin/depmod"] + helpers
        where !FileSystem.isExecutable(program) {
            throw HALabError.missingProgram(
                program,
                fix: "install it with 'apt-get install -y \(Self.packages[program] ?? "nginx keepalived")'"
                    + (program.contains("halab") ? " (or build halab with 'swift build')" : ""))
        }
        // A new image: which domain type runs it is found out anew.
        try? FileSystem.remove("\(folder)/domain-types")
        let root = "\(folder)/root.building"
        try? FileSystem.remove(root)
        defer { try? FileSystem.remove(root) }
        for path in [
            "proc", "sys", "dev", "run", "tmp", "root", "var/log/nginx", "var/lib/nginx", "etc/halab", "usr/local/sbin"
        ] {
            try FileSystem.makeDirectory("\(root)/\(path)")
        }
        try FileManager.default.createSymbolicLink(atPath: "\(root)/var/run", withDestinationPath: "/run")
        progress("programs and their libraries")
        let programs = Self.programs + Self.optionalPrograms.filter(FileSystem.isExecutable)
        var files = Set(programs)
        for program in programs + helpers { files.formUnion(try await Self.libraries(of: program)) }
        let folders = Self.folders.filter(FileSystem.exists)
        try await Self.copy(folders, into: root)
        for folder in folders {
            for library in FileSystem.list(folder).filter({ $0.hasSuffix(".so") }) {
                files.formUnion(try await Self.libraries(of: "\(folder)/\(library)"))
            }
        }
        try await Self.copy(files.sorted(), into: root, followingLinks: true)
        for helper in helpers {
            try FileSystem.copy(helper, to: "\(root)/usr/local/sbin/\(URL(fileURLWithPath: helper).lastPathComponent)")
        }
        for file in ["/etc/passwd", "/etc/group"] { try FileSystem.copy(file, to: "\(root)\(file)") }
        try FileSystem.copy("/bin/busybox", to: "\(root)/bin/busybox")
        // dash is the shell: busybox's own prefers its applets (its `ip`) to the real programs.
        try FileManager.default.createSymbolicLink(atPath: "\(root)/bin/sh", withDestinationPath: "dash")
        if FileSystem.exists("\(root)/bin/nc.openbsd") {
            try FileManager.default.createSymbolicLink(
                atPath: "\(root)/usr/bin/nc", withDestinationPath: "/bin/nc.openbsd")
        }
        for name in ["iptables", "iptables-save", "iptables-restore"] {
            try FileManager.default.createSymbolicLink(
                atPath: "\(root)/usr/sbin/\(name)", withDestinationPath: "xtables-nft-multi")
        }
        let applets = try await Command.run("/bin/busybox", ["--list-full"]).output.split(separator: "\n").map {
            "/\($0)"
        }
        // Each applet a script, not a link: keepalived 2.2.7 resolves a script's links and runs the
        // target under its own name, and busybox run as `busybox` knows no applet (exit 127).
        for applet in applets where !FileSystem.exists("\(root)\(applet)") && !Self.shadowed(applet, in: root) {
            let name = URL(fileURLWithPath: applet).lastPathComponent
            try FileSystem.makeDirectory("\(root)\(URL(fileURLWithPath: applet).deletingLastPathComponent().path)")
            try FileSystem.write(
                "#!/bin/busybox sh\nexec /bin/busybox \(name) \"$@\"\n", to: "\(root)\(applet)", executable: true)
        }
        progress("kernel \(version) and its modules")
        let modules = try Self.modulesWithDependencies(version: version)
        try await Self.copy(
            (modules + ["modules.builtin", "modules.builtin.modinfo", "modules.order"])
                .map { "/lib/modules/\(version)/\($0)" }.filter(FileSystem.exists), into: root)
        try await Command.run("depmod", ["-b", root, version])
        try FileSystem.write(Self.initScript, to: "\(root)/init", executable: true)
        progress("archive")
        try FileSystem.copy(kernelFile, to: kernel)
        try await Self.archive(root, to: initramfs)
        let size = (try FileManager.default.attributesOfItem(atPath: initramfs)[.size] as? Int) ?? 0
        let manifest = Manifest(
            kernelVersion: version, megabytes: size >> 20,
            programs: (Self.programs + Self.optionalPrograms.filter(FileSystem.isExecutable)).map {
                URL(fileURLWithPath: $0).lastPathComponent
            })
        try FileSystem.write(String(decoding: try JSONEncoder().encode(manifest), as: UTF8.self), to: manifestFile)
        return manifest
    }

    /// A busybox applet is left out where a real program of that name is in the image.
    static func shadowed(_ applet: String, in root: String) -> Bool {
        let name = URL(fileURLWithPath: applet).lastPathComponent
        return ["/usr/local/sbin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].contains {
            FileSystem.exists("\(root)\($0)/\(name)")
        }
    }

    /// The modules under `moduleFolders` and every module they need, by the kernel's modules.dep
    /// (paths relative to /lib/modules/VERSION).
    static func modulesWithDependencies(version: String) throws -> [String] {
        var needs: [String: [String]] = [:]
        for line in try FileSystem.read("/lib/modules/\(version)/modules.dep").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            needs[String(parts[0])] = parts.count > 1 ? parts[1].split(separator: " ").map(String.init) : []
        }
        var wanted = Set(
            needs.keys.filter { module in moduleFolders.contains { module == $0 || module.hasPrefix($0 + "/") } })
        var added = wanted
        while !added.isEmpty {
            added = Set(added.flatMap { needs[$0] ?? [] }).subtracting(wanted)
            wanted.formUnion(added)
        }
        return wanted.sorted()
    }

    /// The newest kernel in /boot with its modules installed.
    static func newestKernel() throws -> (file: String, version: String) {
        let versions = FileSystem.list("/boot").filter { $0.hasPrefix("vmlinuz-") }.map {
            String($0.dropFirst("vmlinuz-".count))
        }
        .filter { FileSystem.exists("/lib/modules/\($0)/modules.dep") }
        .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        guard let version = versions.last else {
            throw HALabError.missingProgram(
                "a kernel for the VMs (/boot/vmlinuz-*)", fix: "install one with 'apt-get install -y linux-image-amd64'"
            )
        }
        return ("/boot/vmlinuz-\(version)", version)
    }

    /// Copies files and folders to the same absolute paths under `root`; with `followingLinks`,
    /// what a link points to is copied under the link's name.
    static func copy(_ paths: [String], into root: String, followingLinks: Bool = false) async throws {
        let relative = paths.map { String($0.drop { $0 == "/" }) }
        let script = #"follow=$1; root=$2; shift 2; tar -C / -c $follow -f - -- "$@" | tar -C "$root" -x -f -"#
        try await Command.run("/bin/sh", ["-c", script, "copy", followingLinks ? "-h" : "", root] + relative)
    }

    /// The shared libraries `program` loads, and its loader, as ldd names them.
    static func libraries(of program: String) async throws -> [String] {
        let listing = try await Command.run("ldd", [program], check: false).output
        return listing.split(separator: "\n").compactMap { line in
            line.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("/") }.map(String.init)
        }
    }

    /// A cpio archive (newc, owned by root) of everything under `folder`.
    static func archive(_ folder: String, to file: String) async throws {
        try await Command.run(
            "/bin/sh",
            [
                "-c", #"cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet > "$2""#, "archive", folder,
                file
            ])
    }

    /// The initramfs a node boots: the image's, then the node's own files (`nodeFiles`, a folder),
    /// which the kernel unpacks over it.
    func nodeInitramfs(nodeFiles: String, to file: String) async throws {
        let extra = file + ".node"
        defer { try? FileSystem.remove(extra) }
        try await Self.archive(nodeFiles, to: extra)
        try await Command.run("/bin/sh", ["-c", #"cat "$1" "$2" > "$3""#, "join", initramfs, extra, file])
    }

    /// Shell lines that read /etc/halab/node.sh, set the hostname and give each link its name
    /// (found by MAC address), address and routes. Shared by the image's init and cloud images.
    static let linkSetup = """
        . /etc/halab/node.sh
        hostname "$HALAB_NODE"
        ip link set lo up
        # Links are found by MAC address and given the names the node's configs use.
        i=0
        for link in $HALAB_LINKS; do
            mac=${link%%=*}
            for dev in /sys/class/net/*; do
                [ "$(cat "$dev/address")" = "$mac" ] && ip link set "${dev##*/}" name "halab$i"
            done
            i=$((i + 1))
        done
        i=0
        for link in $HALAB_LINKS; do
            name=${link#*=}; name=${name%%=*}; address=${link##*=}
            # A NIC of a bond or a bridge has no address of its own.
            ip link set "halab$i" name "$name" && { [ -z "$address" ] || ip addr add "$address" dev "$name"; } && ip   \
          link set "$name" up
            i=$((i + 1))
        done
        halab_routes
        """

    /// PID 1 of the guest until it becomes halab-init: the node's own settings come from
    /// /etc/halab/node.sh (its name, links by MAC address, routes, services).
    static let initScript = """
        #!/bin/sh
        # Boot of a halab VM node: file systems, modules, links, the guest agent, then halab-init.
        export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
        mkdir -p /dev/pts; mount -t devpts devpts /dev/pts
        mount -t tmpfs -o mode=0755 tmpfs /run; mount -t tmpfs -o mode=1777 tmpfs /tmp
        # crc32c first: nf_tables needs libcrc32c, whose soft dependency busybox's modprobe does not follow.
        modprobe -a virtio_pci virtio_net virtio_console crc32c_generic
        # A kernel-check boot (does this domain type run a guest?) ends here.
        grep -q halab.check /proc/cmdline && poweroff -f
        \(linkSetup)
        for port in /sys/class/virtio-ports/*; do
            [ "$(cat "$port/name")" = org.qemu.guest_agent.0 ] && qemu-ga -d -m virtio-serial -p "/dev/${port##*/}"    \
         -t /run
        done
        exec /usr/local/sbin/halab-init $HALAB_SERVICES

        """
}
