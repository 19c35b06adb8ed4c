impl serde::Serialize for AgentMetrics {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.uptime_seconds != 0 {
            len += 1;
        }
        if self.stored_objects != 0 {
            len += 1;
        }
        if !self.methods.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.AgentMetrics", len)?;
        if self.uptime_seconds != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("uptimeSeconds", ToString::to_string(&self.uptime_seconds).as_str())?;
        }
        if self.stored_objects != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("storedObjects", ToString::to_string(&self.stored_objects).as_str())?;
        }
        if !self.methods.is_empty() {
            struct_ser.serialize_field("methods", &self.methods)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for AgentMetrics {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "uptime_seconds",
            "uptimeSeconds",
            "stored_objects",
            "storedObjects",
            "methods",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            UptimeSeconds,
            StoredObjects,
            Methods,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "uptimeSeconds" | "uptime_seconds" => Ok(GeneratedField::UptimeSeconds),
                            "storedObjects" | "stored_objects" => Ok(GeneratedField::StoredObjects),
                            "methods" => Ok(GeneratedField::Methods),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = AgentMetrics;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.AgentMetrics")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<AgentMetrics, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut uptime_seconds__ = None;
                let mut stored_objects__ = None;
                let mut methods__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::UptimeSeconds => {
                            if uptime_seconds__.is_some() {
                                return Err(serde::de::Error::duplicate_field("uptimeSeconds"));
                            }
                            uptime_seconds__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::StoredObjects => {
                            if stored_objects__.is_some() {
                                return Err(serde::de::Error::duplicate_field("storedObjects"));
                            }
                            stored_objects__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Methods => {
                            if methods__.is_some() {
                                return Err(serde::de::Error::duplicate_field("methods"));
                            }
                            methods__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(AgentMetrics {
                    uptime_seconds: uptime_seconds__.unwrap_or_default(),
                    stored_objects: stored_objects__.unwrap_or_default(),
                    methods: methods__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.AgentMetrics", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ApplyState {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "APPLY_STATE_UNSPECIFIED",
            Self::Pending => "APPLY_STATE_PENDING",
            Self::Applied => "APPLY_STATE_APPLIED",
            Self::Failed => "APPLY_STATE_FAILED",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for ApplyState {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "APPLY_STATE_UNSPECIFIED",
            "APPLY_STATE_PENDING",
            "APPLY_STATE_APPLIED",
            "APPLY_STATE_FAILED",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = ApplyState;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "APPLY_STATE_UNSPECIFIED" => Ok(ApplyState::Unspecified),
                    "APPLY_STATE_PENDING" => Ok(ApplyState::Pending),
                    "APPLY_STATE_APPLIED" => Ok(ApplyState::Applied),
                    "APPLY_STATE_FAILED" => Ok(ApplyState::Failed),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for ComponentVersion {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.component.is_empty() {
            len += 1;
        }
        if !self.version.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.ComponentVersion", len)?;
        if !self.component.is_empty() {
            struct_ser.serialize_field("component", &self.component)?;
        }
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ComponentVersion {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "component",
            "version",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Component,
            Version,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "component" => Ok(GeneratedField::Component),
                            "version" => Ok(GeneratedField::Version),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ComponentVersion;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.ComponentVersion")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ComponentVersion, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut component__ = None;
                let mut version__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Component => {
                            if component__.is_some() {
                                return Err(serde::de::Error::duplicate_field("component"));
                            }
                            component__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ComponentVersion {
                    component: component__.unwrap_or_default(),
                    version: version__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.ComponentVersion", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateSysctlRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.sysctl_id.is_empty() {
            len += 1;
        }
        if self.sysctl.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.CreateSysctlRequest", len)?;
        if !self.sysctl_id.is_empty() {
            struct_ser.serialize_field("sysctlId", &self.sysctl_id)?;
        }
        if let Some(v) = self.sysctl.as_ref() {
            struct_ser.serialize_field("sysctl", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateSysctlRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "sysctl_id",
            "sysctlId",
            "sysctl",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SysctlId,
            Sysctl,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "sysctlId" | "sysctl_id" => Ok(GeneratedField::SysctlId),
                            "sysctl" => Ok(GeneratedField::Sysctl),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateSysctlRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.CreateSysctlRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateSysctlRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut sysctl_id__ = None;
                let mut sysctl__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SysctlId => {
                            if sysctl_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sysctlId"));
                            }
                            sysctl_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Sysctl => {
                            if sysctl__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sysctl"));
                            }
                            sysctl__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateSysctlRequest {
                    sysctl_id: sysctl_id__.unwrap_or_default(),
                    sysctl: sysctl__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.CreateSysctlRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteSysctlRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.etag.is_empty() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.DeleteSysctlRequest", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.etag.is_empty() {
            struct_ser.serialize_field("etag", &self.etag)?;
        }
        if self.allow_missing {
            struct_ser.serialize_field("allowMissing", &self.allow_missing)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for DeleteSysctlRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "etag",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Etag,
            AllowMissing,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "etag" => Ok(GeneratedField::Etag),
                            "allowMissing" | "allow_missing" => Ok(GeneratedField::AllowMissing),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = DeleteSysctlRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.DeleteSysctlRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteSysctlRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut etag__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Etag => {
                            if etag__.is_some() {
                                return Err(serde::de::Error::duplicate_field("etag"));
                            }
                            etag__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AllowMissing => {
                            if allow_missing__.is_some() {
                                return Err(serde::de::Error::duplicate_field("allowMissing"));
                            }
                            allow_missing__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(DeleteSysctlRequest {
                    name: name__.unwrap_or_default(),
                    etag: etag__.unwrap_or_default(),
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.DeleteSysctlRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetAgentMetricsRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("dpu.system.v1.GetAgentMetricsRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetAgentMetricsRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Err(serde::de::Error::unknown_field(value, FIELDS))
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetAgentMetricsRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.GetAgentMetricsRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetAgentMetricsRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetAgentMetricsRequest {
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.GetAgentMetricsRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetHealthRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("dpu.system.v1.GetHealthRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetHealthRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Err(serde::de::Error::unknown_field(value, FIELDS))
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetHealthRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.GetHealthRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetHealthRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetHealthRequest {
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.GetHealthRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetInventoryRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("dpu.system.v1.GetInventoryRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetInventoryRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Err(serde::de::Error::unknown_field(value, FIELDS))
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetInventoryRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.GetInventoryRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetInventoryRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetInventoryRequest {
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.GetInventoryRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetSysctlRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.GetSysctlRequest", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetSysctlRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetSysctlRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.GetSysctlRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetSysctlRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(GetSysctlRequest {
                    name: name__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.GetSysctlRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Health {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.agent != 0 {
            len += 1;
        }
        if !self.services.is_empty() {
            len += 1;
        }
        if !self.agent_version.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.Health", len)?;
        if self.agent != 0 {
            let v = crate::EnumValue::<ServingState>::of(self.agent);
            struct_ser.serialize_field("agent", &v)?;
        }
        if !self.services.is_empty() {
            struct_ser.serialize_field("services", &self.services)?;
        }
        if !self.agent_version.is_empty() {
            struct_ser.serialize_field("agentVersion", &self.agent_version)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Health {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "agent",
            "services",
            "agent_version",
            "agentVersion",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Agent,
            Services,
            AgentVersion,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "agent" => Ok(GeneratedField::Agent),
                            "services" => Ok(GeneratedField::Services),
                            "agentVersion" | "agent_version" => Ok(GeneratedField::AgentVersion),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Health;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.Health")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Health, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut agent__ = None;
                let mut services__ = None;
                let mut agent_version__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Agent => {
                            if agent__.is_some() {
                                return Err(serde::de::Error::duplicate_field("agent"));
                            }
                            agent__ = Some(map_.next_value::<ServingState>()? as i32);
                        }
                        GeneratedField::Services => {
                            if services__.is_some() {
                                return Err(serde::de::Error::duplicate_field("services"));
                            }
                            services__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AgentVersion => {
                            if agent_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("agentVersion"));
                            }
                            agent_version__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Health {
                    agent: agent__.unwrap_or_default(),
                    services: services__.unwrap_or_default(),
                    agent_version: agent_version__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.Health", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Inventory {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.hostname.is_empty() {
            len += 1;
        }
        if !self.kernel_release.is_empty() {
            len += 1;
        }
        if !self.kernel_version.is_empty() {
            len += 1;
        }
        if !self.architecture.is_empty() {
            len += 1;
        }
        if !self.cpu_model.is_empty() {
            len += 1;
        }
        if self.cpu_count != 0 {
            len += 1;
        }
        if self.memory_total_bytes != 0 {
            len += 1;
        }
        if self.memory_available_bytes != 0 {
            len += 1;
        }
        if self.uptime_seconds != 0 {
            len += 1;
        }
        if !self.interfaces.is_empty() {
            len += 1;
        }
        if !self.versions.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.Inventory", len)?;
        if !self.hostname.is_empty() {
            struct_ser.serialize_field("hostname", &self.hostname)?;
        }
        if !self.kernel_release.is_empty() {
            struct_ser.serialize_field("kernelRelease", &self.kernel_release)?;
        }
        if !self.kernel_version.is_empty() {
            struct_ser.serialize_field("kernelVersion", &self.kernel_version)?;
        }
        if !self.architecture.is_empty() {
            struct_ser.serialize_field("architecture", &self.architecture)?;
        }
        if !self.cpu_model.is_empty() {
            struct_ser.serialize_field("cpuModel", &self.cpu_model)?;
        }
        if self.cpu_count != 0 {
            struct_ser.serialize_field("cpuCount", &self.cpu_count)?;
        }
        if self.memory_total_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("memoryTotalBytes", ToString::to_string(&self.memory_total_bytes).as_str())?;
        }
        if self.memory_available_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("memoryAvailableBytes", ToString::to_string(&self.memory_available_bytes).as_str())?;
        }
        if self.uptime_seconds != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("uptimeSeconds", ToString::to_string(&self.uptime_seconds).as_str())?;
        }
        if !self.interfaces.is_empty() {
            struct_ser.serialize_field("interfaces", &self.interfaces)?;
        }
        if !self.versions.is_empty() {
            struct_ser.serialize_field("versions", &self.versions)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Inventory {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "hostname",
            "kernel_release",
            "kernelRelease",
            "kernel_version",
            "kernelVersion",
            "architecture",
            "cpu_model",
            "cpuModel",
            "cpu_count",
            "cpuCount",
            "memory_total_bytes",
            "memoryTotalBytes",
            "memory_available_bytes",
            "memoryAvailableBytes",
            "uptime_seconds",
            "uptimeSeconds",
            "interfaces",
            "versions",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Hostname,
            KernelRelease,
            KernelVersion,
            Architecture,
            CpuModel,
            CpuCount,
            MemoryTotalBytes,
            MemoryAvailableBytes,
            UptimeSeconds,
            Interfaces,
            Versions,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "hostname" => Ok(GeneratedField::Hostname),
                            "kernelRelease" | "kernel_release" => Ok(GeneratedField::KernelRelease),
                            "kernelVersion" | "kernel_version" => Ok(GeneratedField::KernelVersion),
                            "architecture" => Ok(GeneratedField::Architecture),
                            "cpuModel" | "cpu_model" => Ok(GeneratedField::CpuModel),
                            "cpuCount" | "cpu_count" => Ok(GeneratedField::CpuCount),
                            "memoryTotalBytes" | "memory_total_bytes" => Ok(GeneratedField::MemoryTotalBytes),
                            "memoryAvailableBytes" | "memory_available_bytes" => Ok(GeneratedField::MemoryAvailableBytes),
                            "uptimeSeconds" | "uptime_seconds" => Ok(GeneratedField::UptimeSeconds),
                            "interfaces" => Ok(GeneratedField::Interfaces),
                            "versions" => Ok(GeneratedField::Versions),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Inventory;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.Inventory")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Inventory, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut hostname__ = None;
                let mut kernel_release__ = None;
                let mut kernel_version__ = None;
                let mut architecture__ = None;
                let mut cpu_model__ = None;
                let mut cpu_count__ = None;
                let mut memory_total_bytes__ = None;
                let mut memory_available_bytes__ = None;
                let mut uptime_seconds__ = None;
                let mut interfaces__ = None;
                let mut versions__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Hostname => {
                            if hostname__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hostname"));
                            }
                            hostname__ = Some(map_.next_value()?);
                        }
                        GeneratedField::KernelRelease => {
                            if kernel_release__.is_some() {
                                return Err(serde::de::Error::duplicate_field("kernelRelease"));
                            }
                            kernel_release__ = Some(map_.next_value()?);
                        }
                        GeneratedField::KernelVersion => {
                            if kernel_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("kernelVersion"));
                            }
                            kernel_version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Architecture => {
                            if architecture__.is_some() {
                                return Err(serde::de::Error::duplicate_field("architecture"));
                            }
                            architecture__ = Some(map_.next_value()?);
                        }
                        GeneratedField::CpuModel => {
                            if cpu_model__.is_some() {
                                return Err(serde::de::Error::duplicate_field("cpuModel"));
                            }
                            cpu_model__ = Some(map_.next_value()?);
                        }
                        GeneratedField::CpuCount => {
                            if cpu_count__.is_some() {
                                return Err(serde::de::Error::duplicate_field("cpuCount"));
                            }
                            cpu_count__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MemoryTotalBytes => {
                            if memory_total_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("memoryTotalBytes"));
                            }
                            memory_total_bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MemoryAvailableBytes => {
                            if memory_available_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("memoryAvailableBytes"));
                            }
                            memory_available_bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::UptimeSeconds => {
                            if uptime_seconds__.is_some() {
                                return Err(serde::de::Error::duplicate_field("uptimeSeconds"));
                            }
                            uptime_seconds__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Interfaces => {
                            if interfaces__.is_some() {
                                return Err(serde::de::Error::duplicate_field("interfaces"));
                            }
                            interfaces__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Versions => {
                            if versions__.is_some() {
                                return Err(serde::de::Error::duplicate_field("versions"));
                            }
                            versions__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Inventory {
                    hostname: hostname__.unwrap_or_default(),
                    kernel_release: kernel_release__.unwrap_or_default(),
                    kernel_version: kernel_version__.unwrap_or_default(),
                    architecture: architecture__.unwrap_or_default(),
                    cpu_model: cpu_model__.unwrap_or_default(),
                    cpu_count: cpu_count__.unwrap_or_default(),
                    memory_total_bytes: memory_total_bytes__.unwrap_or_default(),
                    memory_available_bytes: memory_available_bytes__.unwrap_or_default(),
                    uptime_seconds: uptime_seconds__.unwrap_or_default(),
                    interfaces: interfaces__.unwrap_or_default(),
                    versions: versions__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.Inventory", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListAppliedSysctlsRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("dpu.system.v1.ListAppliedSysctlsRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListAppliedSysctlsRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Err(serde::de::Error::unknown_field(value, FIELDS))
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListAppliedSysctlsRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.ListAppliedSysctlsRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListAppliedSysctlsRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(ListAppliedSysctlsRequest {
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.ListAppliedSysctlsRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListSysctlsRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.page_size != 0 {
            len += 1;
        }
        if !self.page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.ListSysctlsRequest", len)?;
        if self.page_size != 0 {
            struct_ser.serialize_field("pageSize", &self.page_size)?;
        }
        if !self.page_token.is_empty() {
            struct_ser.serialize_field("pageToken", &self.page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListSysctlsRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "page_size",
            "pageSize",
            "page_token",
            "pageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            PageSize,
            PageToken,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "pageSize" | "page_size" => Ok(GeneratedField::PageSize),
                            "pageToken" | "page_token" => Ok(GeneratedField::PageToken),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListSysctlsRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.ListSysctlsRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListSysctlsRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut page_size__ = None;
                let mut page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::PageSize => {
                            if page_size__.is_some() {
                                return Err(serde::de::Error::duplicate_field("pageSize"));
                            }
                            page_size__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::PageToken => {
                            if page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("pageToken"));
                            }
                            page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListSysctlsRequest {
                    page_size: page_size__.unwrap_or_default(),
                    page_token: page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.ListSysctlsRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListSysctlsResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.sysctls.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.ListSysctlsResponse", len)?;
        if !self.sysctls.is_empty() {
            struct_ser.serialize_field("sysctls", &self.sysctls)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListSysctlsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "sysctls",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Sysctls,
            NextPageToken,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "sysctls" => Ok(GeneratedField::Sysctls),
                            "nextPageToken" | "next_page_token" => Ok(GeneratedField::NextPageToken),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListSysctlsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.ListSysctlsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListSysctlsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut sysctls__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Sysctls => {
                            if sysctls__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sysctls"));
                            }
                            sysctls__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListSysctlsResponse {
                    sysctls: sysctls__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.ListSysctlsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for MethodMetrics {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.method.is_empty() {
            len += 1;
        }
        if self.requests != 0 {
            len += 1;
        }
        if self.errors != 0 {
            len += 1;
        }
        if self.latency_sum_seconds != 0. {
            len += 1;
        }
        if self.latency_p50_seconds != 0. {
            len += 1;
        }
        if self.latency_p99_seconds != 0. {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.MethodMetrics", len)?;
        if !self.method.is_empty() {
            struct_ser.serialize_field("method", &self.method)?;
        }
        if self.requests != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("requests", ToString::to_string(&self.requests).as_str())?;
        }
        if self.errors != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("errors", ToString::to_string(&self.errors).as_str())?;
        }
        if self.latency_sum_seconds != 0. {
            struct_ser.serialize_field("latencySumSeconds", &self.latency_sum_seconds)?;
        }
        if self.latency_p50_seconds != 0. {
            struct_ser.serialize_field("latencyP50Seconds", &self.latency_p50_seconds)?;
        }
        if self.latency_p99_seconds != 0. {
            struct_ser.serialize_field("latencyP99Seconds", &self.latency_p99_seconds)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for MethodMetrics {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "method",
            "requests",
            "errors",
            "latency_sum_seconds",
            "latencySumSeconds",
            "latency_p50_seconds",
            "latencyP50Seconds",
            "latency_p99_seconds",
            "latencyP99Seconds",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Method,
            Requests,
            Errors,
            LatencySumSeconds,
            LatencyP50Seconds,
            LatencyP99Seconds,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "method" => Ok(GeneratedField::Method),
                            "requests" => Ok(GeneratedField::Requests),
                            "errors" => Ok(GeneratedField::Errors),
                            "latencySumSeconds" | "latency_sum_seconds" => Ok(GeneratedField::LatencySumSeconds),
                            "latencyP50Seconds" | "latency_p50_seconds" => Ok(GeneratedField::LatencyP50Seconds),
                            "latencyP99Seconds" | "latency_p99_seconds" => Ok(GeneratedField::LatencyP99Seconds),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = MethodMetrics;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.MethodMetrics")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<MethodMetrics, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut method__ = None;
                let mut requests__ = None;
                let mut errors__ = None;
                let mut latency_sum_seconds__ = None;
                let mut latency_p50_seconds__ = None;
                let mut latency_p99_seconds__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Method => {
                            if method__.is_some() {
                                return Err(serde::de::Error::duplicate_field("method"));
                            }
                            method__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Requests => {
                            if requests__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requests"));
                            }
                            requests__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Errors => {
                            if errors__.is_some() {
                                return Err(serde::de::Error::duplicate_field("errors"));
                            }
                            errors__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::LatencySumSeconds => {
                            if latency_sum_seconds__.is_some() {
                                return Err(serde::de::Error::duplicate_field("latencySumSeconds"));
                            }
                            latency_sum_seconds__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::LatencyP50Seconds => {
                            if latency_p50_seconds__.is_some() {
                                return Err(serde::de::Error::duplicate_field("latencyP50Seconds"));
                            }
                            latency_p50_seconds__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::LatencyP99Seconds => {
                            if latency_p99_seconds__.is_some() {
                                return Err(serde::de::Error::duplicate_field("latencyP99Seconds"));
                            }
                            latency_p99_seconds__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(MethodMetrics {
                    method: method__.unwrap_or_default(),
                    requests: requests__.unwrap_or_default(),
                    errors: errors__.unwrap_or_default(),
                    latency_sum_seconds: latency_sum_seconds__.unwrap_or_default(),
                    latency_p50_seconds: latency_p50_seconds__.unwrap_or_default(),
                    latency_p99_seconds: latency_p99_seconds__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.MethodMetrics", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for NetworkInterface {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.mac_address.is_empty() {
            len += 1;
        }
        if self.mtu != 0 {
            len += 1;
        }
        if !self.oper_state.is_empty() {
            len += 1;
        }
        if self.admin_up {
            len += 1;
        }
        if !self.addresses.is_empty() {
            len += 1;
        }
        if self.if_index != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.NetworkInterface", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.mac_address.is_empty() {
            struct_ser.serialize_field("macAddress", &self.mac_address)?;
        }
        if self.mtu != 0 {
            struct_ser.serialize_field("mtu", &self.mtu)?;
        }
        if !self.oper_state.is_empty() {
            struct_ser.serialize_field("operState", &self.oper_state)?;
        }
        if self.admin_up {
            struct_ser.serialize_field("adminUp", &self.admin_up)?;
        }
        if !self.addresses.is_empty() {
            struct_ser.serialize_field("addresses", &self.addresses)?;
        }
        if self.if_index != 0 {
            struct_ser.serialize_field("ifIndex", &self.if_index)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for NetworkInterface {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "mac_address",
            "macAddress",
            "mtu",
            "oper_state",
            "operState",
            "admin_up",
            "adminUp",
            "addresses",
            "if_index",
            "ifIndex",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            MacAddress,
            Mtu,
            OperState,
            AdminUp,
            Addresses,
            IfIndex,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "macAddress" | "mac_address" => Ok(GeneratedField::MacAddress),
                            "mtu" => Ok(GeneratedField::Mtu),
                            "operState" | "oper_state" => Ok(GeneratedField::OperState),
                            "adminUp" | "admin_up" => Ok(GeneratedField::AdminUp),
                            "addresses" => Ok(GeneratedField::Addresses),
                            "ifIndex" | "if_index" => Ok(GeneratedField::IfIndex),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = NetworkInterface;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.NetworkInterface")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<NetworkInterface, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut mac_address__ = None;
                let mut mtu__ = None;
                let mut oper_state__ = None;
                let mut admin_up__ = None;
                let mut addresses__ = None;
                let mut if_index__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::MacAddress => {
                            if mac_address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("macAddress"));
                            }
                            mac_address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mtu => {
                            if mtu__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mtu"));
                            }
                            mtu__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::OperState => {
                            if oper_state__.is_some() {
                                return Err(serde::de::Error::duplicate_field("operState"));
                            }
                            oper_state__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AdminUp => {
                            if admin_up__.is_some() {
                                return Err(serde::de::Error::duplicate_field("adminUp"));
                            }
                            admin_up__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Addresses => {
                            if addresses__.is_some() {
                                return Err(serde::de::Error::duplicate_field("addresses"));
                            }
                            addresses__ = Some(map_.next_value()?);
                        }
                        GeneratedField::IfIndex => {
                            if if_index__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ifIndex"));
                            }
                            if_index__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(NetworkInterface {
                    name: name__.unwrap_or_default(),
                    mac_address: mac_address__.unwrap_or_default(),
                    mtu: mtu__.unwrap_or_default(),
                    oper_state: oper_state__.unwrap_or_default(),
                    admin_up: admin_up__.unwrap_or_default(),
                    addresses: addresses__.unwrap_or_default(),
                    if_index: if_index__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.NetworkInterface", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ServiceHealth {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.service.is_empty() {
            len += 1;
        }
        if self.state != 0 {
            len += 1;
        }
        if !self.version.is_empty() {
            len += 1;
        }
        if !self.instance_id.is_empty() {
            len += 1;
        }
        if self.restarts != 0 {
            len += 1;
        }
        if self.last_sync_time.is_some() {
            len += 1;
        }
        if !self.message.is_empty() {
            len += 1;
        }
        if self.desired_revision.is_some() {
            len += 1;
        }
        if self.synced_revision.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.ServiceHealth", len)?;
        if !self.service.is_empty() {
            struct_ser.serialize_field("service", &self.service)?;
        }
        if self.state != 0 {
            let v = crate::EnumValue::<ServingState>::of(self.state);
            struct_ser.serialize_field("state", &v)?;
        }
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        if !self.instance_id.is_empty() {
            struct_ser.serialize_field("instanceId", &self.instance_id)?;
        }
        if self.restarts != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("restarts", ToString::to_string(&self.restarts).as_str())?;
        }
        if let Some(v) = self.last_sync_time.as_ref() {
            struct_ser.serialize_field("lastSyncTime", v)?;
        }
        if !self.message.is_empty() {
            struct_ser.serialize_field("message", &self.message)?;
        }
        if let Some(v) = self.desired_revision.as_ref() {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("desiredRevision", ToString::to_string(&v).as_str())?;
        }
        if let Some(v) = self.synced_revision.as_ref() {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("syncedRevision", ToString::to_string(&v).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ServiceHealth {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "service",
            "state",
            "version",
            "instance_id",
            "instanceId",
            "restarts",
            "last_sync_time",
            "lastSyncTime",
            "message",
            "desired_revision",
            "desiredRevision",
            "synced_revision",
            "syncedRevision",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Service,
            State,
            Version,
            InstanceId,
            Restarts,
            LastSyncTime,
            Message,
            DesiredRevision,
            SyncedRevision,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "service" => Ok(GeneratedField::Service),
                            "state" => Ok(GeneratedField::State),
                            "version" => Ok(GeneratedField::Version),
                            "instanceId" | "instance_id" => Ok(GeneratedField::InstanceId),
                            "restarts" => Ok(GeneratedField::Restarts),
                            "lastSyncTime" | "last_sync_time" => Ok(GeneratedField::LastSyncTime),
                            "message" => Ok(GeneratedField::Message),
                            "desiredRevision" | "desired_revision" => Ok(GeneratedField::DesiredRevision),
                            "syncedRevision" | "synced_revision" => Ok(GeneratedField::SyncedRevision),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ServiceHealth;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.ServiceHealth")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ServiceHealth, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut service__ = None;
                let mut state__ = None;
                let mut version__ = None;
                let mut instance_id__ = None;
                let mut restarts__ = None;
                let mut last_sync_time__ = None;
                let mut message__ = None;
                let mut desired_revision__ = None;
                let mut synced_revision__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Service => {
                            if service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("service"));
                            }
                            service__ = Some(map_.next_value()?);
                        }
                        GeneratedField::State => {
                            if state__.is_some() {
                                return Err(serde::de::Error::duplicate_field("state"));
                            }
                            state__ = Some(map_.next_value::<ServingState>()? as i32);
                        }
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::InstanceId => {
                            if instance_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("instanceId"));
                            }
                            instance_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Restarts => {
                            if restarts__.is_some() {
                                return Err(serde::de::Error::duplicate_field("restarts"));
                            }
                            restarts__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::LastSyncTime => {
                            if last_sync_time__.is_some() {
                                return Err(serde::de::Error::duplicate_field("lastSyncTime"));
                            }
                            last_sync_time__ = map_.next_value()?;
                        }
                        GeneratedField::Message => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("message"));
                            }
                            message__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DesiredRevision => {
                            if desired_revision__.is_some() {
                                return Err(serde::de::Error::duplicate_field("desiredRevision"));
                            }
                            desired_revision__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::SyncedRevision => {
                            if synced_revision__.is_some() {
                                return Err(serde::de::Error::duplicate_field("syncedRevision"));
                            }
                            synced_revision__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                    }
                }
                Ok(ServiceHealth {
                    service: service__.unwrap_or_default(),
                    state: state__.unwrap_or_default(),
                    version: version__.unwrap_or_default(),
                    instance_id: instance_id__.unwrap_or_default(),
                    restarts: restarts__.unwrap_or_default(),
                    last_sync_time: last_sync_time__,
                    message: message__.unwrap_or_default(),
                    desired_revision: desired_revision__,
                    synced_revision: synced_revision__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.ServiceHealth", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ServingState {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "SERVING_STATE_UNSPECIFIED",
            Self::Serving => "SERVING_STATE_SERVING",
            Self::NotServing => "SERVING_STATE_NOT_SERVING",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for ServingState {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "SERVING_STATE_UNSPECIFIED",
            "SERVING_STATE_SERVING",
            "SERVING_STATE_NOT_SERVING",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = ServingState;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "SERVING_STATE_UNSPECIFIED" => Ok(ServingState::Unspecified),
                    "SERVING_STATE_SERVING" => Ok(ServingState::Serving),
                    "SERVING_STATE_NOT_SERVING" => Ok(ServingState::NotServing),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for SyncSysctlsRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.sysctls.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.SyncSysctlsRequest", len)?;
        if !self.sysctls.is_empty() {
            struct_ser.serialize_field("sysctls", &self.sysctls)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SyncSysctlsRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "sysctls",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Sysctls,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "sysctls" => Ok(GeneratedField::Sysctls),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SyncSysctlsRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.SyncSysctlsRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SyncSysctlsRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut sysctls__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Sysctls => {
                            if sysctls__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sysctls"));
                            }
                            sysctls__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SyncSysctlsRequest {
                    sysctls: sysctls__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.SyncSysctlsRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SyncSysctlsResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.sysctls.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.SyncSysctlsResponse", len)?;
        if !self.sysctls.is_empty() {
            struct_ser.serialize_field("sysctls", &self.sysctls)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SyncSysctlsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "sysctls",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Sysctls,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "sysctls" => Ok(GeneratedField::Sysctls),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SyncSysctlsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.SyncSysctlsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SyncSysctlsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut sysctls__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Sysctls => {
                            if sysctls__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sysctls"));
                            }
                            sysctls__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SyncSysctlsResponse {
                    sysctls: sysctls__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.SyncSysctlsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Sysctl {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if self.spec.is_some() {
            len += 1;
        }
        if self.status.is_some() {
            len += 1;
        }
        if self.generation != 0 {
            len += 1;
        }
        if !self.etag.is_empty() {
            len += 1;
        }
        if self.create_time.is_some() {
            len += 1;
        }
        if self.update_time.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.Sysctl", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if let Some(v) = self.spec.as_ref() {
            struct_ser.serialize_field("spec", v)?;
        }
        if let Some(v) = self.status.as_ref() {
            struct_ser.serialize_field("status", v)?;
        }
        if self.generation != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("generation", ToString::to_string(&self.generation).as_str())?;
        }
        if !self.etag.is_empty() {
            struct_ser.serialize_field("etag", &self.etag)?;
        }
        if let Some(v) = self.create_time.as_ref() {
            struct_ser.serialize_field("createTime", v)?;
        }
        if let Some(v) = self.update_time.as_ref() {
            struct_ser.serialize_field("updateTime", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Sysctl {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "spec",
            "status",
            "generation",
            "etag",
            "create_time",
            "createTime",
            "update_time",
            "updateTime",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Spec,
            Status,
            Generation,
            Etag,
            CreateTime,
            UpdateTime,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "spec" => Ok(GeneratedField::Spec),
                            "status" => Ok(GeneratedField::Status),
                            "generation" => Ok(GeneratedField::Generation),
                            "etag" => Ok(GeneratedField::Etag),
                            "createTime" | "create_time" => Ok(GeneratedField::CreateTime),
                            "updateTime" | "update_time" => Ok(GeneratedField::UpdateTime),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Sysctl;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.Sysctl")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Sysctl, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut spec__ = None;
                let mut status__ = None;
                let mut generation__ = None;
                let mut etag__ = None;
                let mut create_time__ = None;
                let mut update_time__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Spec => {
                            if spec__.is_some() {
                                return Err(serde::de::Error::duplicate_field("spec"));
                            }
                            spec__ = map_.next_value()?;
                        }
                        GeneratedField::Status => {
                            if status__.is_some() {
                                return Err(serde::de::Error::duplicate_field("status"));
                            }
                            status__ = map_.next_value()?;
                        }
                        GeneratedField::Generation => {
                            if generation__.is_some() {
                                return Err(serde::de::Error::duplicate_field("generation"));
                            }
                            generation__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Etag => {
                            if etag__.is_some() {
                                return Err(serde::de::Error::duplicate_field("etag"));
                            }
                            etag__ = Some(map_.next_value()?);
                        }
                        GeneratedField::CreateTime => {
                            if create_time__.is_some() {
                                return Err(serde::de::Error::duplicate_field("createTime"));
                            }
                            create_time__ = map_.next_value()?;
                        }
                        GeneratedField::UpdateTime => {
                            if update_time__.is_some() {
                                return Err(serde::de::Error::duplicate_field("updateTime"));
                            }
                            update_time__ = map_.next_value()?;
                        }
                    }
                }
                Ok(Sysctl {
                    name: name__.unwrap_or_default(),
                    spec: spec__,
                    status: status__,
                    generation: generation__.unwrap_or_default(),
                    etag: etag__.unwrap_or_default(),
                    create_time: create_time__,
                    update_time: update_time__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.Sysctl", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SysctlSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.value.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.SysctlSpec", len)?;
        if !self.value.is_empty() {
            struct_ser.serialize_field("value", &self.value)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SysctlSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "value",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Value,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "value" => Ok(GeneratedField::Value),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SysctlSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.SysctlSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SysctlSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut value__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Value => {
                            if value__.is_some() {
                                return Err(serde::de::Error::duplicate_field("value"));
                            }
                            value__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SysctlSpec {
                    value: value__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.SysctlSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SysctlStatus {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.state != 0 {
            len += 1;
        }
        if !self.observed_value.is_empty() {
            len += 1;
        }
        if self.applied_generation != 0 {
            len += 1;
        }
        if !self.message.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.SysctlStatus", len)?;
        if self.state != 0 {
            let v = crate::EnumValue::<ApplyState>::of(self.state);
            struct_ser.serialize_field("state", &v)?;
        }
        if !self.observed_value.is_empty() {
            struct_ser.serialize_field("observedValue", &self.observed_value)?;
        }
        if self.applied_generation != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("appliedGeneration", ToString::to_string(&self.applied_generation).as_str())?;
        }
        if !self.message.is_empty() {
            struct_ser.serialize_field("message", &self.message)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SysctlStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "state",
            "observed_value",
            "observedValue",
            "applied_generation",
            "appliedGeneration",
            "message",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            State,
            ObservedValue,
            AppliedGeneration,
            Message,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "state" => Ok(GeneratedField::State),
                            "observedValue" | "observed_value" => Ok(GeneratedField::ObservedValue),
                            "appliedGeneration" | "applied_generation" => Ok(GeneratedField::AppliedGeneration),
                            "message" => Ok(GeneratedField::Message),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SysctlStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.SysctlStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SysctlStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut state__ = None;
                let mut observed_value__ = None;
                let mut applied_generation__ = None;
                let mut message__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::State => {
                            if state__.is_some() {
                                return Err(serde::de::Error::duplicate_field("state"));
                            }
                            state__ = Some(map_.next_value::<ApplyState>()? as i32);
                        }
                        GeneratedField::ObservedValue => {
                            if observed_value__.is_some() {
                                return Err(serde::de::Error::duplicate_field("observedValue"));
                            }
                            observed_value__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AppliedGeneration => {
                            if applied_generation__.is_some() {
                                return Err(serde::de::Error::duplicate_field("appliedGeneration"));
                            }
                            applied_generation__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Message => {
                            if message__.is_some() {
                                return Err(serde::de::Error::duplicate_field("message"));
                            }
                            message__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SysctlStatus {
                    state: state__.unwrap_or_default(),
                    observed_value: observed_value__.unwrap_or_default(),
                    applied_generation: applied_generation__.unwrap_or_default(),
                    message: message__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.SysctlStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateSysctlRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.sysctl.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.system.v1.UpdateSysctlRequest", len)?;
        if let Some(v) = self.sysctl.as_ref() {
            struct_ser.serialize_field("sysctl", v)?;
        }
        if let Some(v) = self.update_mask.as_ref() {
            struct_ser.serialize_field("updateMask", v)?;
        }
        if self.allow_missing {
            struct_ser.serialize_field("allowMissing", &self.allow_missing)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for UpdateSysctlRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "sysctl",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Sysctl,
            UpdateMask,
            AllowMissing,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "sysctl" => Ok(GeneratedField::Sysctl),
                            "updateMask" | "update_mask" => Ok(GeneratedField::UpdateMask),
                            "allowMissing" | "allow_missing" => Ok(GeneratedField::AllowMissing),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = UpdateSysctlRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.system.v1.UpdateSysctlRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateSysctlRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut sysctl__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Sysctl => {
                            if sysctl__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sysctl"));
                            }
                            sysctl__ = map_.next_value()?;
                        }
                        GeneratedField::UpdateMask => {
                            if update_mask__.is_some() {
                                return Err(serde::de::Error::duplicate_field("updateMask"));
                            }
                            update_mask__ = map_.next_value()?;
                        }
                        GeneratedField::AllowMissing => {
                            if allow_missing__.is_some() {
                                return Err(serde::de::Error::duplicate_field("allowMissing"));
                            }
                            allow_missing__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(UpdateSysctlRequest {
                    sysctl: sysctl__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.system.v1.UpdateSysctlRequest", FIELDS, GeneratedVisitor)
    }
}
