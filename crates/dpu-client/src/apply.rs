//! Declarative apply and diff: make the agent's desired state match a manifest, touching only
//! what differs (so applying the same file twice changes nothing the second time).

use dpu_proto::dpu::system::v1::{
    CreateSysctlRequest, GetSysctlRequest, Sysctl, UpdateSysctlRequest,
};
use tonic::{Code, Status};

use crate::Client;
use crate::manifest::Resource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
        }
    }
}

async fn current_sysctl(client: &Client, name: &str) -> Result<Option<Sysctl>, Status> {
    match client.system().get_sysctl(GetSysctlRequest { name: name.to_owned() }).await {
        Ok(r) => Ok(Some(r.into_inner())),
        Err(s) if s.code() == Code::NotFound => Ok(None),
        Err(s) => Err(s),
    }
}

/// Creates or updates one resource.
pub async fn apply(client: &Client, resource: &Resource) -> Result<Outcome, Status> {
    match resource {
        Resource::Sysctl { id, spec } => {
            let name = resource.full_name();
            match current_sysctl(client, &name).await? {
                None => {
                    let request = CreateSysctlRequest {
                        sysctl_id: id.clone(),
                        sysctl: Some(Sysctl { spec: Some(spec.clone()), ..Default::default() }),
                    };
                    match client.system().create_sysctl(request).await {
                        Ok(_) => Ok(Outcome::Created),
                        // Created by someone else in between: fall through to an update.
                        Err(s) if s.code() == Code::AlreadyExists => {
                            Box::pin(apply(client, resource)).await
                        }
                        Err(s) => Err(s),
                    }
                }
                Some(current) if current.spec.as_ref() == Some(spec) => Ok(Outcome::Unchanged),
                Some(current) => {
                    let request = UpdateSysctlRequest {
                        sysctl: Some(Sysctl {
                            name,
                            spec: Some(spec.clone()),
                            etag: current.etag,
                            ..Default::default()
                        }),
                        update_mask: Some(pbjson_types::FieldMask { paths: vec!["spec".into()] }),
                        allow_missing: false,
                    };
                    client.system().update_sysctl(request).await?;
                    Ok(Outcome::Configured)
                }
            }
        }
    }
}

/// One line per changed field: what apply would do, without doing it.
pub async fn diff(client: &Client, resource: &Resource) -> Result<Vec<String>, Status> {
    match resource {
        Resource::Sysctl { spec, .. } => {
            let name = resource.full_name();
            Ok(match current_sysctl(client, &name).await? {
                None => vec![format!("+ {name}: spec.value = {:?}", spec.value)],
                Some(current) => {
                    let old = current.spec.unwrap_or_default();
                    if old.value == spec.value {
                        Vec::new()
                    } else {
                        vec![format!("~ {name}: spec.value {:?} -> {:?}", old.value, spec.value)]
                    }
                }
            })
        }
    }
}
