extension Array where Element: Hashable {
    /// The elements in order, each once.
    public func uniqueInOrder() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
