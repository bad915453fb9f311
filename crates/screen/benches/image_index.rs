//! Near-copy lookup speed: 1,000,000 reference hashes, a query (eight
//! orientations) by multi-index hashing against the linear scan of the same
//! run, checked to give the same answers; and hashing one 1080p frame.
//!
//! `cargo bench -p greenlight-screen --bench image_index`
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    missing_docs,
    clippy::cast_possible_truncation,
    reason = "a benchmark"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use greenlight_screen::image::{Hash256, HashIndex, Luma, MATCH_DISTANCE, hash_query, pdq};
use rand::{Rng, SeedableRng, rngs::StdRng};

const REFERENCES: usize = 1_000_000;

fn random_hash(rng: &mut StdRng) -> Hash256 {
    Hash256([rng.r#gen(), rng.r#gen(), rng.r#gen(), rng.r#gen()])
}

fn near(rng: &mut StdRng, h: Hash256, bits: u32) -> Hash256 {
    let mut out = h;
    for _ in 0..bits {
        let k = rng.gen_range(0..256usize);
        out.0[k / 64] ^= 1u64 << (k % 64);
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(11);
    let mut index = HashIndex::new();
    let mut kept = Vec::new();
    for _ in 0..REFERENCES {
        let h = random_hash(&mut rng);
        index.push(h);
        kept.push(h);
    }
    index.build();
    // Queries: half near a reference (within the match distance), half unrelated; eight hashes each.
    let queries: Vec<Vec<Hash256>> = (0..200)
        .map(|n| {
            let mut q: Vec<Hash256> = (0..8).map(|_| random_hash(&mut rng)).collect();
            if n % 2 == 0 {
                let target = kept[rng.gen_range(0..kept.len())];
                let bits = rng.gen_range(0..=MATCH_DISTANCE);
                q[0] = near(&mut rng, target, bits);
            }
            q
        })
        .collect();
    for q in &queries {
        assert_eq!(
            index.search(q, MATCH_DISTANCE),
            index.scan(q, MATCH_DISTANCE)
        );
    }
    let mut group = c.benchmark_group("lookup_1m");
    group.sample_size(20);
    let mut k = 0usize;
    group.bench_function("multi_index", |b| {
        b.iter(|| {
            k = (k + 1) % queries.len();
            index.search(&queries[k], MATCH_DISTANCE)
        })
    });
    group.bench_function("linear_scan", |b| {
        b.iter(|| {
            k = (k + 1) % queries.len();
            index.scan(&queries[k], MATCH_DISTANCE)
        })
    });
    group.finish();

    // Percentiles of the multi-index query, measured directly.
    let mut times: Vec<f64> = (0..2000)
        .map(|n| {
            let q = &queries[n % queries.len()];
            let t = std::time::Instant::now();
            std::hint::black_box(index.search(q, MATCH_DISTANCE));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    eprintln!(
        "multi-index over {REFERENCES} hashes: p50 {:.3} ms, p99 {:.3} ms",
        times[times.len() / 2],
        times[times.len() * 99 / 100]
    );

    let frame: Vec<f32> = (0..1920 * 1080)
        .map(|k| ((k % 1920) ^ (k / 1920)) as f32 % 256.0)
        .collect();
    let frame = Luma::new(1920, 1080, frame).unwrap();
    let mut group = c.benchmark_group("hash_1080p");
    group.sample_size(20);
    group.bench_function("pdq_full_size", |b| b.iter(|| pdq::hash(&frame)));
    group.bench_function("query_8_orientations", |b| b.iter(|| hash_query(&frame)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
