import Foundation
import Testing
@testable import XtunLab

/// QEMU boots each kernel's vmlinux through PVH instead of its bzImage.
@Suite("The boot image", .serialized)
struct BootImageTests {
    @Test("each kernel's bzImage unpacks to the ELF vmlinux QEMU boots", arguments: [KernelChoice.v6_1, .v6_12])
    func unpacks(_ choice: KernelChoice) throws {
        let kernel = try Lab(paths: labPaths).kernel(for: .virtualMachine(choice))
        let image = BootImage(kernel: kernel)
        #expect(image.supportsPVH)
        let path = try image.unpackedPath()
        let head = try #require(try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4))
        #expect(head == Data([0x7f, 0x45, 0x4c, 0x46]))
        #expect(image.path() == path)
    }

    @Test("a file that is not a bzImage is refused, not booted")
    func notABzImage() {
        #expect(throws: LabError.self) { try BootImage.payload(of: Data(repeating: 0, count: 4096)) }
        #expect(throws: LabError.self) { try BootImage.Compression(Data([1, 2, 3, 4, 5, 6])) }
    }
}
