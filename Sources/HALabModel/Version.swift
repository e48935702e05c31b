/// halab's version: `halab --version`, `halab doctor` and every JSON report say it, and the
/// Debian package (scripts/package) is named after it.
public enum HALabVersion {
    public static let current = "0.30.0"
}
