//! Glob-style patterns as Redis's `KEYS`, `SCAN MATCH` and `CONFIG GET` understand them:
//! `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` and `\` escapes.
//!
//! Matching runs in O(pattern × text) time whatever the input, so a hostile pattern cannot
//! stall a node.

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Star,
    Any,
    Literal(u8),
    Class { negated: bool, ranges: Vec<(u8, u8)> },
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    tokens: Vec<Token>,
    nocase: bool,
}

impl Pattern {
    pub fn new(pattern: &[u8]) -> Pattern {
        Pattern { tokens: compile(pattern), nocase: false }
    }

    pub fn new_nocase(pattern: &[u8]) -> Pattern {
        Pattern { tokens: compile(pattern), nocase: true }
    }

    /// True for `*`, which matches everything (callers skip matching entirely).
    pub fn matches_all(&self) -> bool {
        self.tokens.iter().all(|token| *token == Token::Star) && !self.tokens.is_empty()
    }

    pub fn matches(&self, text: &[u8]) -> bool {
        // Greedy matching that remembers only the last star: correct because every other
        // token consumes exactly one byte, and linear in the pattern for each text position.
        let (mut t, mut p) = (0usize, 0usize);
        let mut backtrack: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::Star) => {
                    backtrack = Some((p, t));
                    p += 1;
                    continue;
                }
                Some(token) if self.token_matches(token, text[t]) => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
            match backtrack {
                Some((star, from)) => {
                    p = star + 1;
                    t = from + 1;
                    backtrack = Some((star, from + 1));
                }
                None => return false,
            }
        }
        self.tokens[p..].iter().all(|token| *token == Token::Star)
    }

    fn token_matches(&self, token: &Token, byte: u8) -> bool {
        let fold = |b: u8| {
            if self.nocase {
                b.to_ascii_lowercase()
            } else {
                b
            }
        };
        match token {
            Token::Star => unreachable!("stars are handled by the matcher"),
            Token::Any => true,
            Token::Literal(literal) => fold(*literal) == fold(byte),
            Token::Class { negated, ranges } => {
                let byte = fold(byte);
                let inside = ranges.iter().any(|&(low, high)| {
                    let (low, high) = (fold(low), fold(high));
                    low <= byte && byte <= high
                });
                inside != *negated
            }
        }
    }
}

fn compile(pattern: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'*' => {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
                i += 1;
            }
            b'?' => {
                tokens.push(Token::Any);
                i += 1;
            }
            b'\\' if i + 1 < pattern.len() => {
                tokens.push(Token::Literal(pattern[i + 1]));
                i += 2;
            }
            b'[' => {
                i += 1;
                let negated = pattern.get(i) == Some(&b'^');
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                // An unterminated class ends with the pattern, as in Redis.
                while i < pattern.len() && pattern[i] != b']' {
                    if pattern[i] == b'\\' && i + 1 < pattern.len() {
                        ranges.push((pattern[i + 1], pattern[i + 1]));
                        i += 2;
                    } else if i + 2 < pattern.len() && pattern[i + 1] == b'-' {
                        let (a, b) = (pattern[i], pattern[i + 2]);
                        ranges.push((a.min(b), a.max(b)));
                        i += 3;
                    } else {
                        ranges.push((pattern[i], pattern[i]));
                        i += 1;
                    }
                }
                i += 1; // the closing bracket
                tokens.push(Token::Class { negated, ranges });
            }
            literal => {
                tokens.push(Token::Literal(literal));
                i += 1;
            }
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn m(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern.as_bytes()).matches(text.as_bytes())
    }

    #[test]
    fn globs() {
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("foo*", "foobar"));
        assert!(!m("foo*", "fobar"));
        assert!(m("*bar", "foobar"));
        assert!(m("f?o", "foo"));
        assert!(!m("f?o", "fo"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaab"));
        assert!(!m("*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        assert!(m("[abc", "b"));
        assert!(m("x\\", "x\\"));
    }

    #[test]
    fn nocase() {
        assert!(Pattern::new_nocase(b"MaxMemory*").matches(b"maxmemory-policy"));
        assert!(!Pattern::new(b"MaxMemory*").matches(b"maxmemory-policy"));
    }
}
