import Testing
@testable import XtunChecks
