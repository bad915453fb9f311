//! Finding the reference hashes near a query: multi-index hashing (Norouzi,
//! Punjani and Fleet, "Fast Search in Hamming Space with Multi-Index
//! Hashing", CVPR 2012), with an exact linear scan beside it as the fallback
//! and the test oracle.
//!
//! The 256-bit hash is cut into 16 substrings of 16 bits. If two hashes are
//! within distance `r`, by the pigeonhole principle at least one substring
//! pair is within `r / 16` (rounded down). Each substring has a table from
//! its 65,536 values to the entries holding it; a query looks up every value
//! within `r / 16` of each of its substrings, and checks the full distance of
//! each entry found. The answer is exactly the linear scan's. Past
//! [`MIH_MAX_DISTANCE`] the probes outnumber the entries and the index scans.

use super::pdq::Hash256;

/// Substrings per hash.
const CHUNKS: usize = 16;

/// Up to this distance (probing substrings at radius 2: 137 values each)
/// the index probes; beyond it, it scans.
pub const MIH_MAX_DISTANCE: u32 = 47;

/// A hit: the entry's position in insertion order and its distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// The distance to the nearest of the query's hashes.
    pub distance: u32,
    /// The entry, as numbered by [`HashIndex::push`] (from 0).
    pub entry: u32,
}

/// An in-memory index of hashes.
#[derive(Clone, Debug, Default)]
pub struct HashIndex {
    hashes: Vec<Hash256>,
    /// Per substring, the start of each value's run in `ids`: `CHUNKS × 65,537`.
    starts: Vec<u32>,
    /// Per substring, entry ids grouped by value: `CHUNKS × len`.
    ids: Vec<u32>,
    built: bool,
}

impl HashIndex {
    /// An empty index.
    pub fn new() -> HashIndex {
        HashIndex::default()
    }

    /// Adds a hash; returns its entry number. Call [`HashIndex::build`] before
    /// querying (queries on an unbuilt index scan).
    pub fn push(&mut self, hash: Hash256) -> Option<u32> {
        let entry = u32::try_from(self.hashes.len()).ok()?;
        self.hashes.push(hash);
        self.built = false;
        Some(entry)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The hash of an entry.
    pub fn hash(&self, entry: u32) -> Option<Hash256> {
        self.hashes.get(entry as usize).copied()
    }

    /// Builds the substring tables (a counting sort per substring).
    pub fn build(&mut self) {
        const VALUES: usize = 1 << 16;
        let n = self.hashes.len();
        let mut starts = vec![0u32; CHUNKS * (VALUES + 1)];
        let mut ids = vec![0u32; CHUNKS * n];
        for chunk in 0..CHUNKS {
            let Some(table) = starts.get_mut(chunk * (VALUES + 1)..(chunk + 1) * (VALUES + 1))
            else {
                continue;
            };
            for h in &self.hashes {
                if let Some(slot) = table.get_mut(usize::from(h.chunk(chunk)) + 1) {
                    *slot += 1;
                }
            }
            let mut total = 0u32;
            for slot in table.iter_mut() {
                total += *slot;
                *slot = total;
            }
            // `table[v]` is now the start of value v's run; fill with a cursor per value.
            let mut cursor: Vec<u32> = table.get(..VALUES).unwrap_or(&[]).to_vec();
            let Some(out) = ids.get_mut(chunk * n..(chunk + 1) * n) else {
                continue;
            };
            for (entry, h) in self.hashes.iter().enumerate() {
                if let Some(at) = cursor.get_mut(usize::from(h.chunk(chunk))) {
                    if let Some(slot) = out.get_mut(*at as usize) {
                        *slot = entry as u32;
                    }
                    *at += 1;
                }
            }
        }
        self.starts = starts;
        self.ids = ids;
        self.built = true;
    }

    /// Every entry within `max_distance` of any of `queries`, each once with
    /// its smallest distance, nearest first (ties by entry).
    pub fn search(&self, queries: &[Hash256], max_distance: u32) -> Vec<Hit> {
        if !self.built || max_distance > MIH_MAX_DISTANCE {
            return self.scan(queries, max_distance);
        }
        let radius = max_distance / CHUNKS as u32;
        let n = self.hashes.len();
        let mut found: Vec<Hit> = Vec::new();
        let mut probes: Vec<u16> = Vec::with_capacity(256);
        for query in queries {
            for chunk in 0..CHUNKS {
                let base = chunk * ((1 << 16) + 1);
                let ids = self.ids.get(chunk * n..(chunk + 1) * n).unwrap_or(&[]);
                neighbours(query.chunk(chunk), radius, &mut probes);
                for value in &probes {
                    let at = base + usize::from(*value);
                    let (Some(start), Some(end)) = (self.starts.get(at), self.starts.get(at + 1))
                    else {
                        continue;
                    };
                    for entry in ids.get(*start as usize..*end as usize).unwrap_or(&[]) {
                        if let Some(hash) = self.hashes.get(*entry as usize) {
                            let distance = hash.distance(query);
                            if distance <= max_distance {
                                found.push(Hit {
                                    distance,
                                    entry: *entry,
                                });
                            }
                        }
                    }
                }
            }
        }
        best_per_entry(found)
    }

    /// The same answer by comparing with every entry.
    pub fn scan(&self, queries: &[Hash256], max_distance: u32) -> Vec<Hit> {
        let mut found = Vec::new();
        for (entry, hash) in self.hashes.iter().enumerate() {
            let distance = queries.iter().map(|q| q.distance(hash)).min();
            if let Some(distance) = distance
                && distance <= max_distance
            {
                found.push(Hit {
                    distance,
                    entry: entry as u32,
                });
            }
        }
        best_per_entry(found)
    }
}

/// Every 16-bit value within `radius` bits of `value` (radius 0..=2).
fn neighbours(value: u16, radius: u32, out: &mut Vec<u16>) {
    out.clear();
    out.push(value);
    if radius >= 1 {
        for a in 0..16 {
            out.push(value ^ (1 << a));
        }
    }
    if radius >= 2 {
        for a in 0..16 {
            for b in a + 1..16 {
                out.push(value ^ (1 << a) ^ (1 << b));
            }
        }
    }
}

/// Keeps each entry's smallest distance; sorts nearest first.
fn best_per_entry(mut found: Vec<Hit>) -> Vec<Hit> {
    found.sort_unstable_by_key(|h| (h.entry, h.distance));
    found.dedup_by_key(|h| h.entry);
    found.sort_unstable();
    found
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test code"
)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_index_finds_nothing() {
        let mut index = HashIndex::new();
        index.build();
        assert!(index.search(&[Hash256::default()], 31).is_empty());
    }

    /// A small deterministic generator (xorshift).
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn the_index_answers_as_the_linear_scan() {
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut index = HashIndex::new();
        let mut kept = Vec::new();
        for _ in 0..20_000 {
            let h = Hash256([
                next(&mut rng),
                next(&mut rng),
                next(&mut rng),
                next(&mut rng),
            ]);
            index.push(h);
            kept.push(h);
        }
        index.build();
        let mut near_found = 0;
        for round in 0..200usize {
            // eight hashes, one of them a few bits from an entry
            let mut queries: Vec<Hash256> = (0..8)
                .map(|_| {
                    Hash256([
                        next(&mut rng),
                        next(&mut rng),
                        next(&mut rng),
                        next(&mut rng),
                    ])
                })
                .collect();
            let target = kept[next(&mut rng) as usize % kept.len()];
            let mut near = target;
            for _ in 0..(next(&mut rng) % 48) {
                let bit = next(&mut rng) as usize % 256;
                near.0[bit / 64] ^= 1 << (bit % 64);
            }
            queries[round % 8] = near;
            for distance in [0, 15, 16, 31, 32, 47] {
                let got = index.search(&queries, distance);
                assert_eq!(
                    got,
                    index.scan(&queries, distance),
                    "round {round} at {distance}"
                );
                near_found += got.len();
            }
        }
        assert!(
            near_found > 200,
            "the planted neighbours are found ({near_found})"
        );
    }

    #[test]
    fn radius_two_probes_are_all_distinct() {
        let mut out = Vec::new();
        neighbours(0xabcd, 2, &mut out);
        assert_eq!(out.len(), 1 + 16 + 120);
        out.sort_unstable();
        out.dedup();
        assert_eq!(out.len(), 137);
    }
}
