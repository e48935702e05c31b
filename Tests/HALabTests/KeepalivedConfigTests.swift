import Testing
@testable import HALab
