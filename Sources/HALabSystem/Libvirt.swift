import CLibvirt
import Foundation

/// A connection to a libvirt daemon, by any URI (`qemu:///system`, `qemu+ssh://host/system`,
/// `test:///default`). libvirt's connections may be shared between threads. Every failure
/// carries libvirt's own message, read right after the call that failed.
public final class LibvirtConnection: @unchecked Sendable {
    package let pointer: virConnectPtr
    public let uri: String

    public init(uri: String) throws {
        // libvirt prints every error to standard error unless told otherwise; halab reports them itself.
        virSetErrorFunc(nil) { _, _ in }
        guard let pointer = virConnectOpen(uri) else { throw Self.failure("connect to \(uri)") }
        self.pointer = pointer
        self.uri = uri
    }

    deinit { virConnectClose(pointer) }

    /// The error libvirt recorded for the call that just failed, on this thread. Read it before
    /// any other libvirt call: each one clears it.
    package static func failure(_ operation: String) -> HALabError {
        .libvirt(operation: operation, message: lastErrorMessage())
    }

    package static func lastErrorMessage() -> String {
        virGetLastError().flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown error"
    }

    package static func lastErrorCode() -> Int32 { virGetLastError()?.pointee.code ?? 0 }

    /// The capabilities document: which domain types (qemu, kvm) the host offers.
    public func capabilities() throws -> String {
        guard let text = virConnectGetCapabilities(pointer) else { throw Self.failure("read capabilities") }
        defer { free(text) }
        return String(cString: text)
    }

    // MARK: Networks

    /// Starts a transient network: it exists until destroyed, and leaves no definition behind.
    public func createNetwork(xml: String) throws {
        guard let network = virNetworkCreateXML(pointer, xml) else { throw Self.failure("create network") }
        virNetworkFree(network)
    }

    /// Destroys the named network; false if there is none.
    @discardableResult public func destroyNetwork(named name: String) throws -> Bool {
        guard let network = virNetworkLookupByName(pointer, name) else {
            if Self.lastErrorCode() == Int32(VIR_ERR_NO_NETWORK.rawValue) { return false }
            throw Self.failure("look up network \(name)")
        }
        defer { virNetworkFree(network) }
        if virNetworkIsActive(network) == 1, virNetworkDestroy(network) != 0 {
            throw Self.failure("destroy network \(name)")
        }
        if virNetworkIsPersistent(network) == 1, virNetworkUndefine(network) != 0 {
            throw Self.failure("undefine network \(name)")
        }
        return true
    }

    /// The Linux bridge libvirt made for the named network.
    public func networkBridgeName(_ name: String) throws -> String {
        guard let network = virNetworkLookupByName(pointer, name) else { throw Self.failure("look up network \(name)") }
        defer { virNetworkFree(network) }
        guard let bridge = virNetworkGetBridgeName(network) else { throw Self.failure("bridge of network \(name)") }
        defer { free(bridge) }
        return String(cString: bridge)
    }

    public func networkNames() throws -> [String] {
        var list: UnsafeMutablePointer<virNetworkPtr?>?
        let count = virConnectListAllNetworks(pointer, &list, 0)
        guard count >= 0, let list else { throw Self.failure("list networks") }
        defer { free(list) }
        return (0..<Int(count)).compactMap { index in
            guard let network = list[index] else { return nil }
            defer { virNetworkFree(network) }
            return virNetworkGetName(network).map { String(cString: $0) }
        }
    }

    // MARK: Domains

    /// The names of every domain, running or not.
    public func domainNames() throws -> [String] {
        var list: UnsafeMutablePointer<virDomainPtr?>?
        let count = virConnectListAllDomains(pointer, &list, 0)
        guard count >= 0, let list else { throw Self.failure("list domains") }
        defer { free(list) }
        return (0..<Int(count)).compactMap { index in
            guard let domain = list[index] else { return nil }
            defer { virDomainFree(domain) }
            return virDomainGetName(domain).map { String(cString: $0) }
        }
    }

    /// Defines a persistent domain (not started): `destroy` stops it, `start` boots it again.
    public func defineDomain(xml: String) throws -> LibvirtDomain {
        guard let domain = virDomainDefineXML(pointer, xml) else { throw Self.failure("define domain") }
        return LibvirtDomain(pointer: domain, connection: self)
    }

    /// Starts a transient domain, gone once it stops.
    public func createDomain(xml: String) throws -> LibvirtDomain {
        guard let domain = virDomainCreateXML(pointer, xml, 0) else { throw Self.failure("create domain") }
        return LibvirtDomain(pointer: domain, connection: self)
    }

    /// The named domain, or nil if there is none.
    public func domain(named name: String) throws -> LibvirtDomain? {
        guard let domain = virDomainLookupByName(pointer, name) else {
            if Self.lastErrorCode() == Int32(VIR_ERR_NO_DOMAIN.rawValue) { return nil }
            throw Self.failure("look up domain \(name)")
        }
        return LibvirtDomain(pointer: domain, connection: self)
    }
}

/// A connection opened on first use and kept: a lab's many calls (an address look at every
/// node on every poll) then cost no new handshake with libvirtd each.
public final class LibvirtConnectionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var connection: LibvirtConnection?

    public init() {}

    package func connection(_ open: () throws -> LibvirtConnection) throws -> LibvirtConnection {
        lock.lock()
        defer { lock.unlock() }
        if let connection { return connection }
        let opened = try open()
        connection = opened
        return opened
    }
}

/// Runs a blocking libvirt call on a thread of its own, so that several run at once (starting
/// or destroying a VM takes about a second or two) without holding Swift's few worker threads.
public func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// One domain (VM) of a connection.
public final class LibvirtDomain: @unchecked Sendable {
    package let pointer: virDomainPtr
    /// Kept so that the connection outlives its domains.
    package let connection: LibvirtConnection

    package init(pointer: virDomainPtr, connection: LibvirtConnection) {
        self.pointer = pointer
        self.connection = connection
    }

    deinit { virDomainFree(pointer) }

    public var name: String { virDomainGetName(pointer).map { String(cString: $0) } ?? "?" }

    package func check(_ result: Int32, _ operation: String) throws {
        guard result != 0 else { return }
        let message = LibvirtConnection.lastErrorMessage()  // before `name`, another libvirt call
        throw HALabError.libvirt(operation: "\(operation) \(name)", message: message)
    }

    public func start() throws { try check(virDomainCreate(pointer), "start") }
    /// Pulls the plug: no shutdown inside the guest.
    public func destroy() throws { try check(virDomainDestroy(pointer), "destroy") }
    public func undefine() throws { try check(virDomainUndefine(pointer), "undefine") }
    public func suspend() throws { try check(virDomainSuspend(pointer), "suspend") }
    public func resume() throws { try check(virDomainResume(pointer), "resume") }

    public var isActive: Bool { virDomainIsActive(pointer) == 1 }
    public var isPersistent: Bool { virDomainIsPersistent(pointer) == 1 }

    public var isPaused: Bool {
        var state: Int32 = 0
        var reason: Int32 = 0
        guard virDomainGetState(pointer, &state, &reason, 0) == 0 else { return false }
        return state == Int32(VIR_DOMAIN_PAUSED.rawValue)
    }

    /// Changes a device of the running domain (an interface's link state, say).
    public func updateLiveDevice(xml: String) throws {
        try check(
            virDomainUpdateDeviceFlags(pointer, xml, UInt32(VIR_DOMAIN_AFFECT_LIVE.rawValue)), "update a device of")
    }

    /// Changes a device in the domain's config, and live while it runs: what it boots with next too.
    public func updateDevice(xml: String) throws {
        let flags = VIR_DOMAIN_AFFECT_CONFIG.rawValue | (isActive ? VIR_DOMAIN_AFFECT_LIVE.rawValue : 0)
        try check(virDomainUpdateDeviceFlags(pointer, xml, UInt32(flags)), "update a device of")
    }

    /// One command to the QEMU guest agent inside the domain; its JSON answer.
    public func agentCommand(_ json: String, timeoutSeconds: Int32 = 5) throws -> String {
        guard let answer = virDomainQemuAgentCommand(pointer, json, timeoutSeconds, 0) else {
            let message = LibvirtConnection.lastErrorMessage()
            throw HALabError.libvirt(operation: "reach the guest agent of \(name)", message: message)
        }
        defer { free(answer) }
        return String(cString: answer)
    }
}
