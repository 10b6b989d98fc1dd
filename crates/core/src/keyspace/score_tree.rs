//! [`ScoreTree`]: the order-statistic tree behind large sorted sets — a B+ tree of
//! `(score, member)` pairs whose inner nodes count the pairs below each child, so that finding
//! a pair's rank, the pair at a rank, or the first pair past a score or a member takes
//! O(log N), and iterating from there costs O(1) per pair.
//!
//! Pairs are ordered by score, then by member bytes, as Redis orders them. Scores are never
//! NaN (commands refuse them), so the order is total.

use super::Blob;
use std::cmp::Ordering;

/// Pairs in a leaf, and children of an inner node, at most.
const FANOUT_MAX: usize = 64;
/// A node (other than the root) with fewer than this takes from or merges with a sibling.
const FANOUT_MIN: usize = FANOUT_MAX / 4;

const _: () = assert!(FANOUT_MIN * 2 < FANOUT_MAX && FANOUT_MIN >= 2);

pub type Pair = (f64, Blob);

/// Redis's order: by score, then member bytes.
pub fn compare(a: (f64, &[u8]), b: (f64, &[u8])) -> Ordering {
    a.0.partial_cmp(&b.0).expect("scores are never NaN").then_with(|| a.1.cmp(b.1))
}

fn compare_pairs(a: &Pair, b: (f64, &[u8])) -> Ordering {
    compare((a.0, &a.1), b)
}

#[derive(Clone, Debug)]
enum Node {
    Leaf(Vec<Pair>),
    Inner(Vec<Child>),
}

#[derive(Clone, Debug)]
struct Child {
    /// The smallest pair below, to route by.
    first: Pair,
    /// Pairs below.
    count: usize,
    node: Box<Node>,
}

impl Node {
    fn width(&self) -> usize {
        match self {
            Node::Leaf(pairs) => pairs.len(),
            Node::Inner(children) => children.len(),
        }
    }

    fn count(&self) -> usize {
        match self {
            Node::Leaf(pairs) => pairs.len(),
            Node::Inner(children) => children.iter().map(|c| c.count).sum(),
        }
    }

    fn first(&self) -> Option<&Pair> {
        match self {
            Node::Leaf(pairs) => pairs.first(),
            Node::Inner(children) => children.first().map(|c| &c.first),
        }
    }

    /// The child a pair belongs under: the last whose first pair is not after it.
    fn route(children: &[Child], pair: (f64, &[u8])) -> usize {
        children.partition_point(|c| compare_pairs(&c.first, pair) != Ordering::Greater).saturating_sub(1)
    }

    /// Inserts a pair that is not present; returns a new right sibling if this node split.
    fn insert(&mut self, pair: Pair) -> Option<Node> {
        match self {
            Node::Leaf(pairs) => {
                let at = pairs.partition_point(|p| compare_pairs(p, (pair.0, &pair.1)) == Ordering::Less);
                pairs.insert(at, pair);
                (pairs.len() > FANOUT_MAX).then(|| Node::Leaf(pairs.split_off(pairs.len() / 2)))
            }
            Node::Inner(children) => {
                let at = Node::route(children, (pair.0, &pair.1));
                let child = &mut children[at];
                if compare_pairs(&child.first, (pair.0, &pair.1)) == Ordering::Greater {
                    child.first = pair.clone();
                }
                child.count += 1;
                if let Some(right) = child.node.insert(pair) {
                    let right_count = right.count();
                    child.count -= right_count;
                    let first = right.first().expect("a split node is not empty").clone();
                    children.insert(at + 1, Child { first, count: right_count, node: Box::new(right) });
                }
                (children.len() > FANOUT_MAX).then(|| Node::Inner(children.split_off(children.len() / 2)))
            }
        }
    }

    /// Removes a pair; true if it was there.
    fn remove(&mut self, pair: (f64, &[u8])) -> bool {
        match self {
            Node::Leaf(pairs) => match pairs.binary_search_by(|p| compare_pairs(p, pair)) {
                Ok(at) => {
                    pairs.remove(at);
                    true
                }
                Err(_) => false,
            },
            Node::Inner(children) => {
                let at = Node::route(children, pair);
                if !children[at].node.remove(pair) {
                    return false;
                }
                let child = &mut children[at];
                child.count -= 1;
                if let Some(first) = child.node.first() {
                    child.first = first.clone();
                }
                if child.node.width() < FANOUT_MIN {
                    Node::rebalance(children, at);
                }
                true
            }
        }
    }

    /// Mends an underfull child: merges it with a sibling, or takes half of the sibling's
    /// surplus.
    fn rebalance(children: &mut Vec<Child>, at: usize) {
        if children.len() < 2 {
            if children[at].count == 0 {
                children.remove(at);
            }
            return;
        }
        let (left, right) = if at + 1 < children.len() { (at, at + 1) } else { (at - 1, at) };
        let (head, tail) = children.split_at_mut(right);
        let (a, b) = (&mut head[left], &mut tail[0]);
        match (&mut *a.node, &mut *b.node) {
            (Node::Leaf(x), Node::Leaf(y)) => {
                if x.len() + y.len() <= FANOUT_MAX {
                    x.append(y);
                } else if x.len() < y.len() {
                    let moved = (y.len() - x.len()) / 2;
                    x.extend(y.drain(..moved));
                } else {
                    let moved = (x.len() - y.len()) / 2;
                    let split = x.len() - moved;
                    let mut taken: Vec<Pair> = x.drain(split..).collect();
                    taken.append(y);
                    *y = taken;
                }
            }
            (Node::Inner(x), Node::Inner(y)) => {
                if x.len() + y.len() <= FANOUT_MAX {
                    x.append(y);
                } else if x.len() < y.len() {
                    let moved = (y.len() - x.len()) / 2;
                    x.extend(y.drain(..moved));
                } else {
                    let moved = (x.len() - y.len()) / 2;
                    let split = x.len() - moved;
                    let mut taken: Vec<Child> = x.drain(split..).collect();
                    taken.append(y);
                    *y = taken;
                }
            }
            _ => unreachable!("siblings are at the same depth"),
        }
        a.count = a.node.count();
        b.count = b.node.count();
        if let Some(first) = a.node.first() {
            a.first = first.clone();
        }
        if let Some(first) = b.node.first() {
            b.first = first.clone();
        }
        if b.count == 0 {
            children.remove(right);
        }
    }
}

/// The tree. See the module documentation.
#[derive(Clone, Debug)]
pub struct ScoreTree {
    root: Node,
    len: usize,
}

impl Default for ScoreTree {
    fn default() -> Self {
        ScoreTree { root: Node::Leaf(Vec::new()), len: 0 }
    }
}

impl PartialEq for ScoreTree {
    fn eq(&self, other: &ScoreTree) -> bool {
        self.len == other.len && self.iter_from(0).eq(other.iter_from(0))
    }
}

impl ScoreTree {
    pub fn new() -> ScoreTree {
        ScoreTree::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Inserts a pair that is not in the tree yet.
    pub fn insert(&mut self, score: f64, member: Blob) {
        assert!(!score.is_nan(), "scores are never NaN");
        if let Some(right) = self.root.insert((score, member)) {
            let left = std::mem::replace(&mut self.root, Node::Inner(Vec::new()));
            let child = |node: Node| Child {
                first: node.first().expect("a split node is not empty").clone(),
                count: node.count(),
                node: Box::new(node),
            };
            self.root = Node::Inner(vec![child(left), child(right)]);
        }
        self.len += 1;
    }

    /// Removes a pair; true if it was there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        if !self.root.remove((score, member)) {
            return false;
        }
        self.len -= 1;
        // A root with one child hands the root over to it.
        while let Node::Inner(children) = &mut self.root {
            match children.len() {
                0 => self.root = Node::Leaf(Vec::new()),
                1 => self.root = *children.pop().expect("one child").node,
                _ => break,
            }
        }
        true
    }

    /// How many pairs satisfy `below`, which must hold for a prefix of the order (true, then
    /// false): the rank of the first pair that does not.
    pub fn count_while(&self, below: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut rank = 0;
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(pairs) => return rank + pairs.partition_point(|p| below(p.0, &p.1)),
                Node::Inner(children) => {
                    let until = children.partition_point(|c| below(c.first.0, &c.first.1));
                    if until == 0 {
                        return rank;
                    }
                    rank += children[..until - 1].iter().map(|c| c.count).sum::<usize>();
                    node = &children[until - 1].node;
                }
            }
        }
    }

    /// The rank (0-based, ascending) of a pair in the tree.
    pub fn rank(&self, score: f64, member: &[u8]) -> usize {
        self.count_while(|s, m| compare((s, m), (score, member)) == Ordering::Less)
    }

    /// The pair at `rank`.
    pub fn get(&self, rank: usize) -> Option<&Pair> {
        self.iter_from(rank).next()
    }

    /// Pairs from `rank` on, ascending.
    pub fn iter_from(&self, rank: usize) -> Iter<'_> {
        let mut iter = Iter { stack: Vec::new(), leaf: &[], at: 0 };
        if rank >= self.len {
            return iter;
        }
        let (mut node, mut rest) = (&self.root, rank);
        loop {
            match node {
                Node::Leaf(pairs) => {
                    iter.leaf = pairs;
                    iter.at = rest;
                    return iter;
                }
                Node::Inner(children) => {
                    let mut at = 0;
                    while rest >= children[at].count {
                        rest -= children[at].count;
                        at += 1;
                    }
                    iter.stack.push((children, at + 1));
                    node = &children[at].node;
                }
            }
        }
    }

    /// Pairs from `rank` down to the first, descending.
    pub fn iter_back_from(&self, rank: usize) -> BackIter<'_> {
        let mut iter = BackIter { stack: Vec::new(), leaf: &[], left: 0 };
        if self.len == 0 {
            return iter;
        }
        let (mut node, mut rest) = (&self.root, rank.min(self.len - 1));
        loop {
            match node {
                Node::Leaf(pairs) => {
                    iter.leaf = pairs;
                    iter.left = rest + 1;
                    return iter;
                }
                Node::Inner(children) => {
                    let mut at = 0;
                    while rest >= children[at].count {
                        rest -= children[at].count;
                        at += 1;
                    }
                    iter.stack.push((children, at));
                    node = &children[at].node;
                }
            }
        }
    }

    pub fn heap_bytes(&self) -> usize {
        fn bytes(node: &Node) -> usize {
            match node {
                Node::Leaf(pairs) => {
                    pairs.capacity() * std::mem::size_of::<Pair>()
                        + pairs.iter().map(|p| p.1.heap_bytes()).sum::<usize>()
                }
                Node::Inner(children) => {
                    children.capacity() * std::mem::size_of::<Child>()
                        + children.iter().map(|c| std::mem::size_of::<Node>() + bytes(&c.node)).sum::<usize>()
                }
            }
        }
        bytes(&self.root)
    }

    #[cfg(test)]
    fn check(&self) {
        fn walk(node: &Node, root: bool, depth: usize, depths: &mut Vec<usize>) -> usize {
            if !root {
                assert!(node.width() >= 1, "no empty node below the root");
            }
            assert!(node.width() <= FANOUT_MAX);
            match node {
                Node::Leaf(pairs) => {
                    assert!(pairs.windows(2).all(|w| compare_pairs(&w[0], (w[1].0, &w[1].1)) == Ordering::Less));
                    depths.push(depth);
                    pairs.len()
                }
                Node::Inner(children) => {
                    let mut total = 0;
                    for child in children {
                        let count = walk(&child.node, false, depth + 1, depths);
                        assert_eq!(count, child.count, "counts are exact");
                        assert_eq!(
                            child.node.first().map(|p| (p.0, p.1.clone())),
                            Some((child.first.0, child.first.1.clone()))
                        );
                        total += count;
                    }
                    total
                }
            }
        }
        let mut depths = Vec::new();
        assert_eq!(walk(&self.root, true, 0, &mut depths), self.len);
        assert!(depths.windows(2).all(|w| w[0] == w[1]), "every leaf at the same depth");
    }
}

pub struct Iter<'a> {
    /// Inner nodes above the current leaf, each with the next child to visit.
    stack: Vec<(&'a [Child], usize)>,
    leaf: &'a [Pair],
    at: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Pair;

    fn next(&mut self) -> Option<&'a Pair> {
        loop {
            if let Some(pair) = self.leaf.get(self.at) {
                self.at += 1;
                return Some(pair);
            }
            // Up to the nearest inner node with a child left, then down its leftmost path.
            loop {
                let (children, next) = self.stack.last_mut()?;
                if *next < children.len() {
                    let mut node: &'a Node = &children[*next].node;
                    *next += 1;
                    loop {
                        match node {
                            Node::Leaf(pairs) => {
                                self.leaf = pairs;
                                self.at = 0;
                                break;
                            }
                            Node::Inner(children) => {
                                self.stack.push((children, 1));
                                node = &children[0].node;
                            }
                        }
                    }
                    break;
                }
                self.stack.pop();
            }
        }
    }
}

pub struct BackIter<'a> {
    /// Inner nodes above the current leaf, each with the child currently visited.
    stack: Vec<(&'a [Child], usize)>,
    leaf: &'a [Pair],
    /// Pairs of the current leaf still to visit (those before this index).
    left: usize,
}

impl<'a> Iterator for BackIter<'a> {
    type Item = &'a Pair;

    fn next(&mut self) -> Option<&'a Pair> {
        loop {
            if self.left > 0 {
                self.left -= 1;
                return Some(&self.leaf[self.left]);
            }
            loop {
                let (children, current) = self.stack.last_mut()?;
                if *current > 0 {
                    *current -= 1;
                    let mut node: &'a Node = &children[*current].node;
                    loop {
                        match node {
                            Node::Leaf(pairs) => {
                                self.leaf = pairs;
                                self.left = pairs.len();
                                break;
                            }
                            Node::Inner(children) => {
                                self.stack.push((children, children.len() - 1));
                                node = &children[children.len() - 1].node;
                            }
                        }
                    }
                    break;
                }
                self.stack.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn key(score: i32, member: u16) -> (i64, Vec<u8>) {
        (i64::from(score), format!("m{member}").into_bytes())
    }

    proptest! {
        #[test]
        fn ranks_and_ranges_match_a_sorted_set(ops in prop::collection::vec((any::<bool>(), -50i32..50, 0u16..400), 0..3000)) {
            let mut tree = ScoreTree::new();
            let mut model: BTreeSet<(i64, Vec<u8>)> = BTreeSet::new();
            for (add, score, member) in ops {
                let (s, m) = key(score, member);
                if add {
                    if model.insert((s, m.clone())) {
                        tree.insert(s as f64, Blob::new(&m));
                    }
                } else {
                    prop_assert_eq!(tree.remove(s as f64, &m), model.remove(&(s, m)));
                }
            }
            tree.check();
            prop_assert_eq!(tree.len(), model.len());
            let sorted: Vec<(i64, Vec<u8>)> = model.iter().cloned().collect();
            for (rank, (s, m)) in sorted.iter().enumerate().step_by(7) {
                prop_assert_eq!(tree.rank(*s as f64, m), rank);
                let got = tree.get(rank).unwrap();
                prop_assert_eq!((got.0 as i64, got.1.to_vec()), (*s, m.clone()));
                let forward: Vec<_> = tree.iter_from(rank).map(|p| (p.0 as i64, p.1.to_vec())).collect();
                prop_assert_eq!(&forward[..], &sorted[rank..]);
                let backward: Vec<_> = tree.iter_back_from(rank).map(|p| (p.0 as i64, p.1.to_vec())).collect();
                let expected: Vec<_> = sorted[..=rank].iter().rev().cloned().collect();
                prop_assert_eq!(backward, expected);
            }
            for bound in [-60i64, -10, 0, 10, 60] {
                let below = tree.count_while(|s, _| (s as i64) < bound);
                prop_assert_eq!(below, sorted.iter().filter(|(s, _)| *s < bound).count());
            }
        }
    }

    #[test]
    fn a_large_tree_stays_shallow_and_shrinks_back() {
        let mut tree = ScoreTree::new();
        for i in 0..100_000 {
            tree.insert(f64::from(i % 1000), Blob::new(format!("{i}").as_bytes()));
        }
        tree.check();
        assert_eq!(tree.rank(999.0, b"99999"), 99_999);
        for i in 0..99_990 {
            assert!(tree.remove(f64::from(i % 1000), format!("{i}").as_bytes()));
        }
        tree.check();
        assert_eq!(tree.len(), 10);
        assert!(matches!(tree.root, Node::Leaf(_)), "collapsed back to one leaf");
    }
}
