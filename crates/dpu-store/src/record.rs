//! The on-disk record. A protobuf message so fields can be added without a migration.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, PartialEq, prost::Message)]
pub struct Record {
    /// Random per creation, so a deleted-and-recreated object never repeats an etag.
    #[prost(uint64, tag = "1")]
    pub uid: u64,
    /// Starts at 1 and grows by one with every change of spec.
    #[prost(int64, tag = "2")]
    pub generation: i64,
    #[prost(int64, tag = "3")]
    pub create_time_unix_nanos: i64,
    #[prost(int64, tag = "4")]
    pub update_time_unix_nanos: i64,
    /// The encoded spec message.
    #[prost(bytes = "vec", tag = "5")]
    pub spec: Vec<u8>,
}

fn now_unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Record {
    pub fn new(spec: Vec<u8>) -> Self {
        let now = now_unix_nanos();
        Self {
            uid: rand::random(),
            generation: 1,
            create_time_unix_nanos: now,
            update_time_unix_nanos: now,
            spec,
        }
    }

    /// The record that follows this one with a new spec.
    pub fn next(&self, spec: Vec<u8>) -> Self {
        Self {
            uid: self.uid,
            generation: self.generation + 1,
            create_time_unix_nanos: self.create_time_unix_nanos,
            update_time_unix_nanos: now_unix_nanos().max(self.update_time_unix_nanos),
            spec,
        }
    }

    pub fn etag(&self) -> String {
        format!("{:016x}-{}", self.uid, self.generation)
    }
}
