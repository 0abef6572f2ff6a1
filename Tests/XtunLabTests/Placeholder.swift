import Testing
@testable import XtunLab
