/// One parsed file of the annotated source: its marker blocks and the text
/// lines with the blocks that enclose them.
public struct AnnotatedFile: Sendable, Hashable {
    /// A marker block, which is also a named region.
    public struct Block: Sendable, Hashable {
        public let header: BlockHeader
        /// 1-based line of the opening marker.
        public let line: Int
        /// Index of the enclosing block in `AnnotatedFile.blocks`, if nested.
        public let parent: Int?

        /// The region name.
        public var name: String { header.name }
    }

    /// A non-marker line and the blocks around it (outermost first).
    struct Line: Sendable, Hashable {
        let text: String
        let blocks: [Int]

        var isBlank: Bool { text.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" } }
    }

    /// The file's path relative to the source directory, e.g. `xtun.c` or
    /// `user/xtun_test.c`.
    public let name: String
    /// The file as shown in diagnostics, e.g. `driver/xtun.c`.
    public let displayPath: String
    /// Every block in the order its opening marker appears.
    public let blocks: [Block]
    let lines: [Line]

    /// The pitfall names used in this file's conditions.
    public var pitfallNames: Set<String> {
        Set(blocks.compactMap { $0.header.condition?.pitfall })
    }

    /// Parses one annotated file.
    ///
    /// - Parameters:
    ///   - name: the file's relative path; `*.c` and `*.h` use `//` markers,
    ///     others `#` (by the last path component).
    ///   - displayPath: how diagnostics name the file (defaults to `name`).
    ///   - knownPitfalls: when given, every pitfall in a condition must be in it.
    ///   - validStages: the stage numbers markers may name.
    /// - Throws: `SourceError` listing every marker problem with `file:line`,
    ///   including regions that are emitted twice for one (stage, pitfall).
    public static func parse(
        name: String, text: String, displayPath: String? = nil,
        knownPitfalls: Set<String>? = nil,
        validStages: ClosedRange<Int> = StageRange.tutorialStages
    ) throws(SourceError) -> AnnotatedFile {
        let path = displayPath ?? name
        let leader = CommentLeader(fileName: name)
        var rawLines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if rawLines.last == "" { rawLines.removeLast() }

        var blocks: [Block] = []
        var lines: [Line] = []
        /// Open blocks, innermost last; `nil` stands for a malformed open
        /// marker, which any close marker closes (so one typo is one error).
        var open: [Int?] = []
        var problems: [SourceDiagnostic] = []
        func problem(_ line: Int, _ message: String) {
            problems.append(SourceDiagnostic(file: path, line: line, message: message))
        }

        for (index, raw) in rawLines.enumerated() {
            let number = index + 1
            switch Marker.read(raw, leader: leader, validStages: validStages) {
            case .text:
                lines.append(Line(text: String(raw), blocks: open.compactMap { $0 }))
            case .malformed(let reason):
                problem(number, "malformed marker: \(reason)")
                // Recover: a bad open still opens something, a bad close closes the innermost.
                if raw.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix(leader.rawValue + ">") {
                    open.append(nil)
                } else if !open.isEmpty {
                    open.removeLast()
                }
            case .marker(.open(let header)):
                if let condition = header.condition, let known = knownPitfalls,
                   !known.contains(condition.pitfall) {
                    problem(number, "unknown pitfall '\(condition.pitfall)' in condition '\(condition)'")
                }
                blocks.append(Block(header: header, line: number, parent: open.last(where: { $0 != nil }) ?? nil))
                open.append(blocks.count - 1)
            case .marker(.close(let closing)):
                guard let top = open.last else {
                    problem(number, "close marker '\(leader.rawValue)< \(closing)' has no open block")
                    continue
                }
                guard let innermost = top, blocks[innermost].name != closing else {
                    open.removeLast()
                    continue
                }
                let inner = blocks[innermost]
                problem(number, "close marker '\(leader.rawValue)< \(closing)' does not match the innermost "
                    + "open block '\(inner.name)' (opened at line \(inner.line))")
                // Recover: if it closes an outer block, close everything up to it.
                if let outer = open.lastIndex(where: { $0.map { blocks[$0].name == closing } ?? false }) {
                    open.removeSubrange(outer...)
                }
            }
        }
        for case let unclosed? in open {
            let block = blocks[unclosed]
            problem(block.line, "block '\(block.name)' is never closed")
        }
        guard problems.isEmpty else {
            throw SourceError(diagnostics: problems.sorted { $0.line < $1.line })
        }

        let file = AnnotatedFile(name: name, displayPath: path, blocks: blocks, lines: lines)
        let duplicates = file.duplicateRegions(validStages: validStages)
        guard duplicates.isEmpty else { throw SourceError(diagnostics: duplicates) }
        return file
    }

    /// The file's text and regions for one stage and pitfall variant.
    public func render(stage: Int, pitfall: String? = nil) -> RenderedFile {
        let output = emit(stage: stage, pitfall: pitfall)
        var regions: [String: String] = [:]
        for (block, text) in output.regions {
            regions[blocks[block].name] = text
        }
        return RenderedFile(text: output.text, regions: regions)
    }

    // MARK: - Emission

    private struct Emission {
        var text: String?
        /// Region text by block index, only for blocks that emit non-blank lines.
        var regions: [Int: String]
    }

    private func emit(stage: Int, pitfall: String?) -> Emission {
        let active = blocks.map { $0.header.isActive(stage: stage, pitfall: pitfall) }
        var kept: [Line] = []
        for line in lines where line.blocks.allSatisfy({ active[$0] }) {
            if line.isBlank && (kept.last?.isBlank ?? true) { continue }
            kept.append(line)
        }
        if kept.last?.isBlank == true { kept.removeLast() }
        guard !kept.isEmpty else { return Emission(text: nil, regions: [:]) }

        var regions: [Int: String] = [:]
        for (index, isActive) in active.enumerated() where isActive {
            let inside = kept.filter { $0.blocks.contains(index) }
            guard let first = inside.firstIndex(where: { !$0.isBlank }),
                  let last = inside.lastIndex(where: { !$0.isBlank }) else { continue }
            regions[index] = joined(inside[first...last])
        }
        return Emission(text: joined(kept[...]), regions: regions)
    }

    private func joined(_ lines: ArraySlice<Line>) -> String {
        lines.map(\.text).joined(separator: "\n") + "\n"
    }

    /// Diagnostics for two blocks with one name that both emit content for
    /// some (stage, pitfall).
    private func duplicateRegions(validStages: ClosedRange<Int>) -> [SourceDiagnostic] {
        var reported: Set<[Int]> = []
        var problems: [SourceDiagnostic] = []
        let variants: [String?] = [nil] + pitfallNames.sorted()
        for stage in validStages {
            for pitfall in variants {
                let regions = emit(stage: stage, pitfall: pitfall).regions.keys.sorted()
                var firstByName: [String: Int] = [:]
                for block in regions {
                    let name = blocks[block].name
                    guard let earlier = firstByName[name] else {
                        firstByName[name] = block
                        continue
                    }
                    guard reported.insert([earlier, block]).inserted else { continue }
                    let variant = pitfall.map { " (pitfall \($0))" } ?? ""
                    problems.append(SourceDiagnostic(
                        file: displayPath, line: blocks[block].line,
                        message: "region '\(name)' is also emitted by the block at line "
                            + "\(blocks[earlier].line) in stage \(twoDigits(stage))\(variant)"))
                }
            }
        }
        return problems
    }
}

/// One file of a snapshot: its text (nil when it emits no non-blank line)
/// and its regions by name.
public struct RenderedFile: Sendable, Hashable {
    public let text: String?
    public let regions: [String: String]
}
