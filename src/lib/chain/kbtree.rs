//! The B-tree bwa keeps its chains in while seeding (`kbtree.h` instantiated
//! with `KB_DEFAULT_SIZE` = 512 bytes per node and a 48-byte chain record,
//! which gives minimum degree t = 5: at most 9 keys per node).
//!
//! Chains are keyed by `pos` only, and one read often yields several chains
//! with the same `pos`. Which of them a lookup returns, and in which order a
//! traversal lists them, follows from the tree's shape, so this is the same
//! tree and the same algorithms as bwa's (spec §15.2), not an ordered map.
//! Nodes live in an arena that is cleared, not freed, between reads.

/// Minimum degree of bwa's chain tree: `((512 - 4 - 8) / (8 + 48) + 1) >> 1`.
const T: usize = 5;
/// Maximum keys per node (`2t - 1`).
const MAX_KEYS: usize = 2 * T - 1;

/// One key of the tree: the chain's position and the caller's handle for
/// the chain (an index into its own chain table). Only `pos` is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Entry {
    pub pos: i64,
    pub id: u32,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    n: usize,
    is_internal: bool,
    keys: [Entry; MAX_KEYS],
    children: [u32; MAX_KEYS + 1],
}

impl Node {
    const EMPTY: Node = Node {
        n: 0,
        is_internal: false,
        keys: [Entry { pos: 0, id: 0 }; MAX_KEYS],
        children: [0; MAX_KEYS + 1],
    };

    /// bwa's in-node search (`__kb_getp_aux`): the first index `b` with
    /// `key[b] >= pos` by binary search; returns `(n-1, false)` if there is
    /// none, `(b, true)` if `key[b] == pos` (the leftmost equal key of this
    /// node), else `(b-1, false)`, which may be -1. An empty node gives
    /// `(-1, false)`.
    fn find(&self, pos: i64) -> (isize, bool) {
        if self.n == 0 {
            return (-1, false);
        }
        let (mut begin, mut end) = (0usize, self.n);
        while begin < end {
            let mid = (begin + end) >> 1;
            if self.keys[mid].pos < pos {
                begin = mid + 1;
            } else {
                end = mid;
            }
        }
        if begin == self.n {
            return (self.n as isize - 1, false);
        }
        if self.keys[begin].pos == pos {
            (begin as isize, true)
        } else {
            (begin as isize - 1, false)
        }
    }
}

/// bwa's chain B-tree over an arena of nodes; `clear` keeps the arena.
#[derive(Debug, Clone)]
pub struct KbTree {
    nodes: Vec<Node>,
    root: u32,
    len: usize,
}

impl Default for KbTree {
    fn default() -> Self {
        Self::new()
    }
}

impl KbTree {
    /// An empty tree (one empty leaf as root, as `kb_init` makes).
    pub fn new() -> Self {
        KbTree {
            nodes: vec![Node::EMPTY],
            root: 0,
            len: 0,
        }
    }

    /// Empties the tree, keeping the node arena's memory.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.nodes.push(Node::EMPTY);
        self.root = 0;
        self.len = 0;
    }

    /// Number of keys (`kb_size`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// bwa's `kb_intervalp`: walks down from the root; a key equal to
    /// `pos` met on the way is returned as both bounds at once (the leftmost
    /// equal key of the highest node holding one). Otherwise `lower` is the
    /// last key `< pos` and `upper` the first key `> pos` seen on the path.
    pub fn interval(&self, pos: i64) -> (Option<Entry>, Option<Entry>) {
        let (mut lower, mut upper) = (None, None);
        let mut x = &self.nodes[self.root as usize];
        loop {
            let (i, eq) = x.find(pos);
            if i >= 0 && eq {
                let e = x.keys[i as usize];
                return (Some(e), Some(e));
            }
            if i >= 0 {
                lower = Some(x.keys[i as usize]);
            }
            if i < x.n as isize - 1 {
                upper = Some(x.keys[(i + 1) as usize]);
            }
            if !x.is_internal {
                return (lower, upper);
            }
            x = &self.nodes[x.children[(i + 1) as usize] as usize];
        }
    }

    /// The chain a new seed at `pos` is tested against: `lower` of
    /// [`KbTree::interval`].
    pub fn lower(&self, pos: i64) -> Option<Entry> {
        self.interval(pos).0
    }

    /// bwa's `kb_putp`: splits a full root first, then descends splitting
    /// full children on the way; in a leaf the key goes right after the
    /// last key `< pos`, or right after the leftmost equal key of the leaf.
    pub fn insert(&mut self, e: Entry) {
        self.len += 1;
        if self.nodes[self.root as usize].n == MAX_KEYS {
            let old = self.root;
            let s = self.alloc(true);
            self.nodes[s as usize].children[0] = old;
            self.root = s;
            self.split(s, 0);
        }
        let mut x = self.root;
        loop {
            let node = &self.nodes[x as usize];
            let (found, _) = node.find(e.pos);
            if !node.is_internal {
                let at = (found + 1) as usize;
                let node = &mut self.nodes[x as usize];
                node.keys.copy_within(at..node.n, at + 1);
                node.keys[at] = e;
                node.n += 1;
                return;
            }
            let mut i = (found + 1) as usize;
            let child = node.children[i];
            if self.nodes[child as usize].n == MAX_KEYS {
                self.split(x, i);
                if e.pos > self.nodes[x as usize].keys[i].pos {
                    i += 1;
                }
            }
            x = self.nodes[x as usize].children[i];
        }
    }

    fn alloc(&mut self, is_internal: bool) -> u32 {
        let mut node = Node::EMPTY;
        node.is_internal = is_internal;
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    /// Splits the full child `i` of internal node `x` (`__kb_split`): the
    /// child keeps keys 0..t-1, its key t-1 moves up into `x` at `i`, and a
    /// new right sibling takes keys t.. (and children t..).
    fn split(&mut self, x: u32, i: usize) {
        let y = self.nodes[x as usize].children[i];
        let yn = self.nodes[y as usize];
        debug_assert_eq!(yn.n, MAX_KEYS);
        let z = self.alloc(yn.is_internal);
        {
            let zn = &mut self.nodes[z as usize];
            zn.n = T - 1;
            zn.keys[..T - 1].copy_from_slice(&yn.keys[T..MAX_KEYS]);
            if yn.is_internal {
                zn.children[..T].copy_from_slice(&yn.children[T..=MAX_KEYS]);
            }
        }
        self.nodes[y as usize].n = T - 1;
        let xn = &mut self.nodes[x as usize];
        let n = xn.n;
        xn.children.copy_within(i + 1..n + 1, i + 2);
        xn.children[i + 1] = z;
        xn.keys.copy_within(i..n, i + 1);
        xn.keys[i] = yn.keys[T - 1];
        xn.n += 1;
    }

    /// Calls `f` on every key in order (child 0, key 0, child 1, ...), as
    /// `__kb_traverse` does.
    pub fn for_each(&self, mut f: impl FnMut(Entry)) {
        self.visit(self.root, &mut f);
    }

    fn visit(&self, x: u32, f: &mut impl FnMut(Entry)) {
        let node = &self.nodes[x as usize];
        for k in 0..node.n {
            if node.is_internal {
                self.visit(node.children[k], f);
            }
            f(node.keys[k]);
        }
        if node.is_internal {
            self.visit(node.children[node.n], f);
        }
    }

    /// Checks the B-tree shape: key counts, key order within and across
    /// nodes, and equal leaf depth. For tests.
    #[cfg(test)]
    fn check_shape(&self) -> Result<(), String> {
        let mut leaf_depth = None;
        self.check_node(self.root, 0, true, i64::MIN, i64::MAX, &mut leaf_depth)
    }

    #[cfg(test)]
    fn check_node(
        &self,
        x: u32,
        depth: usize,
        is_root: bool,
        lo: i64,
        hi: i64,
        leaf_depth: &mut Option<usize>,
    ) -> Result<(), String> {
        let node = &self.nodes[x as usize];
        if node.n > MAX_KEYS || (!is_root && node.n < T - 1) {
            return Err(format!("node {x} has {} keys", node.n));
        }
        let keys = &node.keys[..node.n];
        if keys.windows(2).any(|w| w[0].pos > w[1].pos) {
            return Err(format!("node {x} keys out of order"));
        }
        if keys.iter().any(|k| k.pos < lo || k.pos > hi) {
            return Err(format!("node {x} key outside its parent's range"));
        }
        if !node.is_internal {
            match *leaf_depth {
                None => *leaf_depth = Some(depth),
                Some(d) if d != depth => return Err("leaves at different depths".into()),
                _ => {}
            }
            return Ok(());
        }
        for c in 0..=node.n {
            let clo = if c == 0 { lo } else { keys[c - 1].pos };
            let chi = if c == node.n { hi } else { keys[c].pos };
            self.check_node(node.children[c], depth + 1, false, clo, chi, leaf_depth)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn build(keys: &[i64]) -> KbTree {
        let mut t = KbTree::new();
        for (i, &p) in keys.iter().enumerate() {
            t.insert(Entry {
                pos: p,
                id: i as u32,
            });
        }
        t
    }

    fn in_order(t: &KbTree) -> Vec<Entry> {
        let mut v = Vec::new();
        t.for_each(|e| v.push(e));
        v
    }

    fn ids(t: &KbTree) -> Vec<u32> {
        in_order(t).iter().map(|e| e.id).collect()
    }

    #[test]
    fn equal_keys_in_one_leaf_go_after_the_first() {
        // Each duplicate is inserted right after the leftmost equal key.
        let t = build(&[7, 7, 7, 7]);
        assert_eq!(ids(&t), [0, 3, 2, 1]);
        assert_eq!(t.lower(7).map(|e| e.id), Some(0));
    }

    #[test]
    fn ten_equal_keys_split_the_root() {
        // Nine equal keys fill the root leaf as [0,8,7,6,5,4,3,2,1]. The
        // tenth splits it: [0,8,7,6] | 5 | [4,3,2,1]; the root's equal key
        // sends the new key to child 1, where it goes after 4.
        let t = build(&[3; 10]);
        assert_eq!(ids(&t), [0, 8, 7, 6, 5, 4, 9, 3, 2, 1]);
        // The lookup stops at the root's equal key.
        assert_eq!(
            t.interval(3),
            (Some(in_order(&t)[4]), Some(in_order(&t)[4]))
        );
        assert_eq!(t.lower(3).map(|e| e.id), Some(5));
        t.check_shape().unwrap();
    }

    #[test]
    fn equal_key_after_split_goes_left_when_not_greater() {
        // Keys 1..=9 fill the root; key 5 (id 9) splits it into
        // [1,2,3,4] | 5 | [6,7,8,9]; the root's 5 is equal, so the new key
        // descends to child 1 and lands before 6.
        let mut keys: Vec<i64> = (1..=9).collect();
        keys.push(5);
        let t = build(&keys);
        let v = in_order(&t);
        let pos: Vec<i64> = v.iter().map(|e| e.pos).collect();
        assert_eq!(pos, [1, 2, 3, 4, 5, 5, 6, 7, 8, 9]);
        assert_eq!(v[4].id, 4);
        assert_eq!(v[5].id, 9);
        assert_eq!(t.lower(5).map(|e| e.id), Some(4));
        assert_eq!(t.interval(0), (None, Some(v[0])));
        assert_eq!(t.interval(100), (Some(v[9]), None));
    }

    #[test]
    fn lookup_below_everything_has_no_lower() {
        let t = build(&[10, 20, 30]);
        assert_eq!(t.lower(5), None);
        assert_eq!(t.lower(25).map(|e| e.pos), Some(20));
        let mut t = t;
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.lower(25), None);
    }

    /// Random insert sequences (keys from ranges of 5, 40 and 1000 values,
    /// so many duplicates) run once through bwa's own `kbtree.h` with a
    /// 40-byte record (t = 5): the `lower` found before each insert, as
    /// `mem_chain` looks it up, and the final in-order traversal.
    #[test]
    fn matches_bwa_kbtree() {
        let text = include_str!("../../../tests/data/kbtree_cases.txt");
        let mut lines = text.lines().skip(1);
        let nums = |l: &str| -> Vec<i64> {
            l.split_whitespace()
                .map(|x| x.parse().expect("fixture is numeric"))
                .collect()
        };
        let mut checked = 0;
        while let (Some(keys), Some(lower), Some(order)) =
            (lines.next(), lines.next(), lines.next())
        {
            let keys = nums(keys);
            let keys = &keys[1..];
            let mut t = KbTree::new();
            let mut got_lower = Vec::new();
            for (i, &p) in keys.iter().enumerate() {
                got_lower.push(t.lower(p).map_or(-1, |e| i64::from(e.id)));
                t.insert(Entry {
                    pos: p,
                    id: i as u32,
                });
            }
            assert_eq!(got_lower, nums(lower), "lookups, case {checked}");
            let got: Vec<i64> = in_order(&t).iter().map(|e| i64::from(e.id)).collect();
            assert_eq!(got, nums(order), "traversal, case {checked}");
            checked += 1;
        }
        assert_eq!(checked, 200);
    }

    proptest! {
        #[test]
        fn traversal_is_sorted_and_complete(keys in proptest::collection::vec(0i64..40, 0..400)) {
            let t = build(&keys);
            prop_assert!(t.check_shape().is_ok(), "{:?}", t.check_shape());
            prop_assert_eq!(t.len(), keys.len());
            let v = in_order(&t);
            prop_assert!(v.windows(2).all(|w| w[0].pos <= w[1].pos));
            let mut got: Vec<(i64, u32)> = v.iter().map(|e| (e.pos, e.id)).collect();
            got.sort();
            let mut want: Vec<(i64, u32)> = keys.iter().enumerate().map(|(i, &p)| (p, i as u32)).collect();
            want.sort();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn lower_is_the_largest_key_not_above(keys in proptest::collection::vec(0i64..200, 1..300), q in -5i64..210) {
            let t = build(&keys);
            let want = keys.iter().copied().filter(|&p| p <= q).max();
            let got = t.lower(q);
            prop_assert_eq!(got.map(|e| e.pos), want);
            if let Some(e) = got {
                prop_assert_eq!(keys[e.id as usize], e.pos);
            }
            let above = keys.iter().copied().filter(|&p| p > q).min();
            let (lo, up) = t.interval(q);
            if want != Some(q) {
                prop_assert_eq!(up.map(|e| e.pos), above);
            } else {
                prop_assert_eq!(lo, up);
            }
        }

        #[test]
        fn distinct_keys_traverse_in_key_order(keys in proptest::collection::hash_set(-1000i64..1000, 0..300)) {
            let keys: Vec<i64> = keys.into_iter().collect();
            let t = build(&keys);
            let mut want = keys.clone();
            want.sort();
            let got: Vec<i64> = in_order(&t).iter().map(|e| e.pos).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn clear_then_reuse_gives_the_same_tree(a in proptest::collection::vec(0i64..30, 0..200), b in proptest::collection::vec(0i64..30, 0..200)) {
            let mut t = build(&a);
            t.clear();
            for (i, &p) in b.iter().enumerate() {
                t.insert(Entry { pos: p, id: i as u32 });
            }
            prop_assert_eq!(in_order(&t), in_order(&build(&b)));
        }
    }
}
