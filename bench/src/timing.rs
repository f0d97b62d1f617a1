//! Plain `Instant` timing: warm up, calibrate a batch, then take interleaved samples so
//! every case of a comparison sees the same machine load; report medians.

use std::error::Error;
use std::time::{Duration, Instant};

/// What a case runs once per iteration.
pub type Step<'a> = Box<dyn FnMut() -> Result<(), Box<dyn Error>> + 'a>;

/// A named step to time.
pub struct Case<'a> {
    pub name: &'static str,
    pub step: Step<'a>,
}

impl std::fmt::Debug for Case<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<'a> Case<'a> {
    pub fn new(
        name: &'static str,
        step: impl FnMut() -> Result<(), Box<dyn Error>> + 'a,
    ) -> Case<'a> {
        Case {
            name,
            step: Box::new(step),
        }
    }
}

/// How long to warm up and sample.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Warm-up time per case.
    pub warmup: Duration,
    /// Least time one sample (a batch of iterations) takes.
    pub sample: Duration,
    /// Samples per case.
    pub samples: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            warmup: Duration::from_millis(300),
            sample: Duration::from_millis(10),
            samples: 61,
        }
    }
}

/// Time per iteration of one case.
#[derive(Debug, Clone)]
pub struct Summary {
    pub name: &'static str,
    /// Iterations per sample.
    pub batch: u32,
    /// Seconds per iteration, one per sample, sorted.
    pub per_iter: Vec<f64>,
}

impl Summary {
    pub fn median(&self) -> f64 {
        quantile(&self.per_iter, 0.5)
    }

    /// The 10th and 90th percentiles.
    pub fn spread(&self) -> (f64, f64) {
        (quantile(&self.per_iter, 0.1), quantile(&self.per_iter, 0.9))
    }
}

/// The `q` quantile of sorted values (nearest rank); NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Runs every case: warm-up, batch calibration, then `plan.samples` rounds in which each
/// case takes one sample, the starting case rotating round by round.
pub fn run(cases: &mut [Case<'_>], plan: Plan) -> Result<Vec<Summary>, Box<dyn Error>> {
    let mut batches = Vec::with_capacity(cases.len());
    for case in cases.iter_mut() {
        let start = Instant::now();
        let mut iterations = 0u64;
        while iterations == 0 || start.elapsed() < plan.warmup {
            (case.step)()?;
            iterations += 1;
        }
        let per_iter = start.elapsed().as_secs_f64() / iterations as f64;
        let batch = (plan.sample.as_secs_f64() / per_iter.max(1e-9)).ceil();
        batches.push(batch.clamp(1.0, 1e6) as u32);
    }
    let mut per_iter: Vec<Vec<f64>> = vec![Vec::with_capacity(plan.samples); cases.len()];
    for round in 0..plan.samples {
        for k in 0..cases.len() {
            let i = (round + k) % cases.len();
            let start = Instant::now();
            for _ in 0..batches[i] {
                (cases[i].step)()?;
            }
            per_iter[i].push(start.elapsed().as_secs_f64() / f64::from(batches[i]));
        }
    }
    Ok(cases
        .iter()
        .zip(batches)
        .zip(per_iter)
        .map(|((case, batch), mut times)| {
            times.sort_by(f64::total_cmp);
            Summary {
                name: case.name,
                batch,
                per_iter: times,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn a_slower_case_measures_slower() {
        let mut cases = [
            Case::new("fast", || Ok(())),
            Case::new("slow", || {
                std::thread::sleep(Duration::from_micros(200));
                Ok(())
            }),
        ];
        let plan = Plan {
            warmup: Duration::from_millis(5),
            sample: Duration::from_millis(1),
            samples: 5,
        };
        let s = run(&mut cases, plan).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].name, "slow");
        assert!(s[1].median() >= 200e-6, "{}", s[1].median());
        assert!(s[0].median() < s[1].median());
        assert!(s[0].batch > s[1].batch);
        assert!(s.iter().all(|x| x.per_iter.len() == 5));
    }

    #[test]
    fn a_failing_step_stops_the_run() {
        let mut cases = [Case::new("bad", || Err("boom".into()))];
        let e = run(&mut cases, Plan::default()).unwrap_err();
        assert_eq!(e.to_string(), "boom");
    }
}
