//! The one-field spec the store's unit and integration tests store.

#[derive(Clone, PartialEq, prost::Message)]
pub struct Spec {
    #[prost(string, tag = "1")]
    pub value: String,
}

pub fn spec(v: &str) -> Spec {
    Spec { value: v.to_owned() }
}
