//! [`Normalized`]: a text folded into the stream of letters the matcher scans, with the gaps
//! between them (see the parent module for the rules).

use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// What separates a letter of the stream from the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Gap {
    /// The start or end of the text.
    Edge,
    /// Nothing: the same chunk.
    Join,
    /// A separator between two single characters: inside a spelled-out word.
    Spaced,
    /// Punctuation only, between chunks not both single.
    Soft,
    /// Whitespace next to a single character.
    Loose,
    /// Whitespace between two longer chunks.
    Hard,
}

impl Gap {
    pub(super) fn is_word_boundary(self) -> bool {
        matches!(self, Gap::Edge | Gap::Soft | Gap::Loose | Gap::Hard)
    }

    /// Between two chunks: `single_*` says whether each is a single character.
    fn between(whitespace: bool, single_before: bool, single_after: bool) -> Gap {
        match (single_before, single_after, whitespace) {
            (true, true, _) => Gap::Spaced,
            (_, _, false) => Gap::Soft,
            (true, _, true) | (_, true, true) => Gap::Loose,
            _ => Gap::Hard,
        }
    }
}

/// A text as the matcher sees it: folded, collapsed letters and the gaps between them.
#[derive(Clone, Debug)]
pub struct Normalized {
    /// Collapsed stream: `a-z`, digits, and `@`/`$` of words without letters.
    pub(super) letters: Vec<u8>,
    /// How often each letter of `letters` stood there in a row.
    pub(super) runs: Vec<u16>,
    /// `gaps[i]` lies before `letters[i]`; `gaps[letters.len()]` is the end.
    pub(super) gaps: Vec<Gap>,
}

/// One chunk of folded characters between separators.
struct Chunk {
    start: usize,
    end: usize,
    /// How many source characters produced it (`ä` is one, though it folds to `ae`).
    sources: u32,
    whitespace_before: bool,
}

impl Chunk {
    fn is_single(&self) -> bool {
        self.sources == 1
    }
}

/// What one character of the text is to the matcher.
enum Folded {
    Letters(FoldedLetters),
    Invisible,
    Whitespace,
    Punctuation,
}

/// Up to three folded ASCII bytes (decancer's longest outputs for letters are short; longer ones
/// are cut, which only loses precision on exotic ligatures).
struct FoldedLetters {
    bytes: [u8; 3],
    len: u8,
}

impl FoldedLetters {
    fn one(b: u8) -> FoldedLetters {
        FoldedLetters {
            bytes: [b, 0, 0],
            len: 1,
        }
    }

    fn two(s: &[u8; 2]) -> FoldedLetters {
        FoldedLetters {
            bytes: [s[0], s[1], 0],
            len: 2,
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

/// Characters that render as nothing and are used to split words invisibly.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}')
}

fn fold(c: char) -> Folded {
    if c.is_ascii() {
        return match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' => {
                Folded::Letters(FoldedLetters::one(c.to_ascii_lowercase() as u8))
            }
            '@' | '$' => Folded::Letters(FoldedLetters::one(c as u8)),
            c if c.is_ascii_whitespace() => Folded::Whitespace,
            _ => Folded::Punctuation,
        };
    }
    match c {
        'ä' | 'Ä' => return Folded::Letters(FoldedLetters::two(b"ae")),
        'ö' | 'Ö' => return Folded::Letters(FoldedLetters::two(b"oe")),
        'ü' | 'Ü' => return Folded::Letters(FoldedLetters::two(b"ue")),
        'ß' | 'ẞ' => return Folded::Letters(FoldedLetters::two(b"ss")),
        _ => {}
    }
    if is_combining_mark(c) || is_invisible(c) {
        return Folded::Invisible;
    }
    if c.is_whitespace() {
        return Folded::Whitespace;
    }
    if !c.is_alphabetic() {
        return Folded::Punctuation;
    }
    let mut base = None;
    decompose_canonical(c, |d| {
        base.get_or_insert(d);
    });
    if let Some(b) = base.filter(char::is_ascii_alphanumeric) {
        return Folded::Letters(FoldedLetters::one(b.to_ascii_lowercase() as u8));
    }
    let mut out = FoldedLetters {
        bytes: [0; 3],
        len: 0,
    };
    let mut push = |ch: char| {
        if ch.is_ascii_alphanumeric() && (out.len as usize) < out.bytes.len() {
            out.bytes[out.len as usize] = ch.to_ascii_lowercase() as u8;
            out.len += 1;
        }
    };
    match decancer::cure_char(c, decancer::Options::default()) {
        decancer::Translation::Character(ch) => push(ch),
        decancer::Translation::String(s) => s.chars().for_each(push),
        decancer::Translation::None => return Folded::Invisible,
    }
    if out.len == 0 {
        Folded::Punctuation
    } else {
        Folded::Letters(out)
    }
}

fn leet(b: u8) -> u8 {
    match b {
        b'0' => b'o',
        b'1' => b'i',
        b'3' => b'e',
        b'4' => b'a',
        b'5' => b's',
        b'7' => b't',
        b'@' => b'a',
        b'$' => b's',
        other => other,
    }
}

impl Normalized {
    /// Folds a text (or an entry) into its stream; see the module docs.
    pub fn new(text: &str) -> Normalized {
        // ASCII and most German text are NFKC already; the quick check spares the normaliser.
        let (raw, chunks) = if text.is_ascii() || is_nfkc_quick(text.chars()) == IsNormalized::Yes {
            chunk(text.chars())
        } else {
            chunk(text.nfkc())
        };
        // Which chunks read digits as letters: a run of single characters is one word, and so is
        // every longer chunk; it does when it holds a real letter.
        let mut leet_chunk = vec![false; chunks.len()];
        let mut i = 0;
        while i < chunks.len() {
            let mut j = i + 1;
            if chunks[i].is_single() {
                while j < chunks.len() && chunks[j].is_single() {
                    j += 1;
                }
            }
            let has_letter = chunks[i..j]
                .iter()
                .any(|c| raw[c.start..c.end].iter().any(u8::is_ascii_lowercase));
            leet_chunk[i..j].fill(has_letter);
            i = j;
        }

        let mut out = Normalized {
            letters: Vec::with_capacity(raw.len()),
            runs: Vec::with_capacity(raw.len()),
            gaps: Vec::with_capacity(raw.len() + 1),
        };
        for (k, c) in chunks.iter().enumerate() {
            let first_gap = if k == 0 {
                Gap::Edge
            } else {
                Gap::between(
                    c.whitespace_before,
                    chunks[k - 1].is_single(),
                    c.is_single(),
                )
            };
            for (n, &b) in raw[c.start..c.end].iter().enumerate() {
                let b = if leet_chunk[k] { leet(b) } else { b };
                let gap = if n == 0 { first_gap } else { Gap::Join };
                let repeats = matches!(gap, Gap::Join | Gap::Spaced)
                    && b.is_ascii_lowercase()
                    && out.letters.last() == Some(&b);
                match out.runs.last_mut() {
                    Some(run) if repeats => *run = run.saturating_add(1),
                    _ => {
                        out.letters.push(b);
                        out.runs.push(1);
                        out.gaps.push(gap);
                    }
                }
            }
        }
        out.gaps.push(Gap::Edge);
        out
    }

    /// The collapsed letters (for tests and debugging).
    pub fn letters(&self) -> &str {
        // Only ASCII bytes are ever pushed.
        std::str::from_utf8(&self.letters).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.letters.is_empty()
    }
}

fn chunk(chars: impl Iterator<Item = char>) -> (Vec<u8>, Vec<Chunk>) {
    let mut raw = Vec::new();
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut open = false;
    let mut whitespace = false;
    for c in chars {
        match fold(c) {
            Folded::Letters(letters) => {
                if !open {
                    chunks.push(Chunk {
                        start: raw.len(),
                        end: raw.len(),
                        sources: 0,
                        whitespace_before: whitespace,
                    });
                    open = true;
                    whitespace = false;
                }
                raw.extend_from_slice(letters.as_slice());
                if let Some(last) = chunks.last_mut() {
                    last.end = raw.len();
                    last.sources += 1;
                }
            }
            Folded::Invisible => {}
            Folded::Whitespace => {
                open = false;
                whitespace = true;
            }
            Folded::Punctuation => open = false,
        }
    }
    (raw, chunks)
}
