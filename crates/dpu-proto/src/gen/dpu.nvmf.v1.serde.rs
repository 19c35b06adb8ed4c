impl serde::Serialize for AnaGroupState {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.group != 0 {
            len += 1;
        }
        if self.state != 0 {
            len += 1;
        }
        if self.set_revision != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.AnaGroupState", len)?;
        if self.group != 0 {
            struct_ser.serialize_field("group", &self.group)?;
        }
        if self.state != 0 {
            let v = crate::EnumValue::<AnaState>::of(self.state);
            struct_ser.serialize_field("state", &v)?;
        }
        if self.set_revision != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("setRevision", ToString::to_string(&self.set_revision).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for AnaGroupState {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "group",
            "state",
            "set_revision",
            "setRevision",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Group,
            State,
            SetRevision,
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
                            "group" => Ok(GeneratedField::Group),
                            "state" => Ok(GeneratedField::State),
                            "setRevision" | "set_revision" => Ok(GeneratedField::SetRevision),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = AnaGroupState;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.AnaGroupState")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<AnaGroupState, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut group__ = None;
                let mut state__ = None;
                let mut set_revision__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Group => {
                            if group__.is_some() {
                                return Err(serde::de::Error::duplicate_field("group"));
                            }
                            group__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::State => {
                            if state__.is_some() {
                                return Err(serde::de::Error::duplicate_field("state"));
                            }
                            state__ = Some(map_.next_value::<AnaState>()? as i32);
                        }
                        GeneratedField::SetRevision => {
                            if set_revision__.is_some() {
                                return Err(serde::de::Error::duplicate_field("setRevision"));
                            }
                            set_revision__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(AnaGroupState {
                    group: group__.unwrap_or_default(),
                    state: state__.unwrap_or_default(),
                    set_revision: set_revision__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.AnaGroupState", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for AnaState {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "ANA_STATE_UNSPECIFIED",
            Self::Optimized => "ANA_STATE_OPTIMIZED",
            Self::NonOptimized => "ANA_STATE_NON_OPTIMIZED",
            Self::Inaccessible => "ANA_STATE_INACCESSIBLE",
            Self::PersistentLoss => "ANA_STATE_PERSISTENT_LOSS",
            Self::Change => "ANA_STATE_CHANGE",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for AnaState {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "ANA_STATE_UNSPECIFIED",
            "ANA_STATE_OPTIMIZED",
            "ANA_STATE_NON_OPTIMIZED",
            "ANA_STATE_INACCESSIBLE",
            "ANA_STATE_PERSISTENT_LOSS",
            "ANA_STATE_CHANGE",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = AnaState;

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
                    "ANA_STATE_UNSPECIFIED" => Ok(AnaState::Unspecified),
                    "ANA_STATE_OPTIMIZED" => Ok(AnaState::Optimized),
                    "ANA_STATE_NON_OPTIMIZED" => Ok(AnaState::NonOptimized),
                    "ANA_STATE_INACCESSIBLE" => Ok(AnaState::Inaccessible),
                    "ANA_STATE_PERSISTENT_LOSS" => Ok(AnaState::PersistentLoss),
                    "ANA_STATE_CHANGE" => Ok(AnaState::Change),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
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
impl serde::Serialize for BlockDeviceBackend {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.path.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.BlockDeviceBackend", len)?;
        if !self.path.is_empty() {
            struct_ser.serialize_field("path", &self.path)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for BlockDeviceBackend {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "path",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Path,
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
                            "path" => Ok(GeneratedField::Path),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = BlockDeviceBackend;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.BlockDeviceBackend")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<BlockDeviceBackend, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut path__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Path => {
                            if path__.is_some() {
                                return Err(serde::de::Error::duplicate_field("path"));
                            }
                            path__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(BlockDeviceBackend {
                    path: path__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.BlockDeviceBackend", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ClearHostWriteProtectionRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ClearHostWriteProtectionRequest", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ClearHostWriteProtectionRequest {
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
            type Value = ClearHostWriteProtectionRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ClearHostWriteProtectionRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ClearHostWriteProtectionRequest, V::Error>
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
                Ok(ClearHostWriteProtectionRequest {
                    name: name__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ClearHostWriteProtectionRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ClearHostWriteProtectionResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.previous != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ClearHostWriteProtectionResponse", len)?;
        if self.previous != 0 {
            let v = crate::EnumValue::<HostWriteProtection>::of(self.previous);
            struct_ser.serialize_field("previous", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ClearHostWriteProtectionResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "previous",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Previous,
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
                            "previous" => Ok(GeneratedField::Previous),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ClearHostWriteProtectionResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ClearHostWriteProtectionResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ClearHostWriteProtectionResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut previous__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Previous => {
                            if previous__.is_some() {
                                return Err(serde::de::Error::duplicate_field("previous"));
                            }
                            previous__ = Some(map_.next_value::<HostWriteProtection>()? as i32);
                        }
                    }
                }
                Ok(ClearHostWriteProtectionResponse {
                    previous: previous__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ClearHostWriteProtectionResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ControllerStats {
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
        if self.cntlid != 0 {
            len += 1;
        }
        if !self.host_nqn.is_empty() {
            len += 1;
        }
        if !self.peer_address.is_empty() {
            len += 1;
        }
        if !self.queues.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ControllerStats", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if self.cntlid != 0 {
            struct_ser.serialize_field("cntlid", &self.cntlid)?;
        }
        if !self.host_nqn.is_empty() {
            struct_ser.serialize_field("hostNqn", &self.host_nqn)?;
        }
        if !self.peer_address.is_empty() {
            struct_ser.serialize_field("peerAddress", &self.peer_address)?;
        }
        if !self.queues.is_empty() {
            struct_ser.serialize_field("queues", &self.queues)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ControllerStats {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "cntlid",
            "host_nqn",
            "hostNqn",
            "peer_address",
            "peerAddress",
            "queues",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Cntlid,
            HostNqn,
            PeerAddress,
            Queues,
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
                            "cntlid" => Ok(GeneratedField::Cntlid),
                            "hostNqn" | "host_nqn" => Ok(GeneratedField::HostNqn),
                            "peerAddress" | "peer_address" => Ok(GeneratedField::PeerAddress),
                            "queues" => Ok(GeneratedField::Queues),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ControllerStats;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ControllerStats")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ControllerStats, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut cntlid__ = None;
                let mut host_nqn__ = None;
                let mut peer_address__ = None;
                let mut queues__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Cntlid => {
                            if cntlid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("cntlid"));
                            }
                            cntlid__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::HostNqn => {
                            if host_nqn__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hostNqn"));
                            }
                            host_nqn__ = Some(map_.next_value()?);
                        }
                        GeneratedField::PeerAddress => {
                            if peer_address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("peerAddress"));
                            }
                            peer_address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Queues => {
                            if queues__.is_some() {
                                return Err(serde::de::Error::duplicate_field("queues"));
                            }
                            queues__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ControllerStats {
                    name: name__.unwrap_or_default(),
                    cntlid: cntlid__.unwrap_or_default(),
                    host_nqn: host_nqn__.unwrap_or_default(),
                    peer_address: peer_address__.unwrap_or_default(),
                    queues: queues__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ControllerStats", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateListenerRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.listener_id.is_empty() {
            len += 1;
        }
        if self.listener.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.CreateListenerRequest", len)?;
        if !self.listener_id.is_empty() {
            struct_ser.serialize_field("listenerId", &self.listener_id)?;
        }
        if let Some(v) = self.listener.as_ref() {
            struct_ser.serialize_field("listener", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateListenerRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "listener_id",
            "listenerId",
            "listener",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ListenerId,
            Listener,
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
                            "listenerId" | "listener_id" => Ok(GeneratedField::ListenerId),
                            "listener" => Ok(GeneratedField::Listener),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateListenerRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.CreateListenerRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateListenerRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut listener_id__ = None;
                let mut listener__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ListenerId => {
                            if listener_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("listenerId"));
                            }
                            listener_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Listener => {
                            if listener__.is_some() {
                                return Err(serde::de::Error::duplicate_field("listener"));
                            }
                            listener__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateListenerRequest {
                    listener_id: listener_id__.unwrap_or_default(),
                    listener: listener__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.CreateListenerRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateNamespaceRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.parent.is_empty() {
            len += 1;
        }
        if !self.namespace_id.is_empty() {
            len += 1;
        }
        if self.namespace.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.CreateNamespaceRequest", len)?;
        if !self.parent.is_empty() {
            struct_ser.serialize_field("parent", &self.parent)?;
        }
        if !self.namespace_id.is_empty() {
            struct_ser.serialize_field("namespaceId", &self.namespace_id)?;
        }
        if let Some(v) = self.namespace.as_ref() {
            struct_ser.serialize_field("namespace", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateNamespaceRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "parent",
            "namespace_id",
            "namespaceId",
            "namespace",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Parent,
            NamespaceId,
            Namespace,
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
                            "parent" => Ok(GeneratedField::Parent),
                            "namespaceId" | "namespace_id" => Ok(GeneratedField::NamespaceId),
                            "namespace" => Ok(GeneratedField::Namespace),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateNamespaceRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.CreateNamespaceRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateNamespaceRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut parent__ = None;
                let mut namespace_id__ = None;
                let mut namespace__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Parent => {
                            if parent__.is_some() {
                                return Err(serde::de::Error::duplicate_field("parent"));
                            }
                            parent__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NamespaceId => {
                            if namespace_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespaceId"));
                            }
                            namespace_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Namespace => {
                            if namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespace"));
                            }
                            namespace__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateNamespaceRequest {
                    parent: parent__.unwrap_or_default(),
                    namespace_id: namespace_id__.unwrap_or_default(),
                    namespace: namespace__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.CreateNamespaceRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateSubsystemRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.subsystem_id.is_empty() {
            len += 1;
        }
        if self.subsystem.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.CreateSubsystemRequest", len)?;
        if !self.subsystem_id.is_empty() {
            struct_ser.serialize_field("subsystemId", &self.subsystem_id)?;
        }
        if let Some(v) = self.subsystem.as_ref() {
            struct_ser.serialize_field("subsystem", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateSubsystemRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "subsystem_id",
            "subsystemId",
            "subsystem",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SubsystemId,
            Subsystem,
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
                            "subsystemId" | "subsystem_id" => Ok(GeneratedField::SubsystemId),
                            "subsystem" => Ok(GeneratedField::Subsystem),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateSubsystemRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.CreateSubsystemRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateSubsystemRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut subsystem_id__ = None;
                let mut subsystem__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SubsystemId => {
                            if subsystem_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("subsystemId"));
                            }
                            subsystem_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Subsystem => {
                            if subsystem__.is_some() {
                                return Err(serde::de::Error::duplicate_field("subsystem"));
                            }
                            subsystem__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateSubsystemRequest {
                    subsystem_id: subsystem_id__.unwrap_or_default(),
                    subsystem: subsystem__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.CreateSubsystemRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateVolumeRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.volume_id.is_empty() {
            len += 1;
        }
        if self.volume.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.CreateVolumeRequest", len)?;
        if !self.volume_id.is_empty() {
            struct_ser.serialize_field("volumeId", &self.volume_id)?;
        }
        if let Some(v) = self.volume.as_ref() {
            struct_ser.serialize_field("volume", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateVolumeRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "volume_id",
            "volumeId",
            "volume",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            VolumeId,
            Volume,
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
                            "volumeId" | "volume_id" => Ok(GeneratedField::VolumeId),
                            "volume" => Ok(GeneratedField::Volume),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateVolumeRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.CreateVolumeRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateVolumeRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut volume_id__ = None;
                let mut volume__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::VolumeId => {
                            if volume_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("volumeId"));
                            }
                            volume_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Volume => {
                            if volume__.is_some() {
                                return Err(serde::de::Error::duplicate_field("volume"));
                            }
                            volume__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateVolumeRequest {
                    volume_id: volume_id__.unwrap_or_default(),
                    volume: volume__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.CreateVolumeRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteListenerRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.DeleteListenerRequest", len)?;
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
impl<'de> serde::Deserialize<'de> for DeleteListenerRequest {
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
            type Value = DeleteListenerRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.DeleteListenerRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteListenerRequest, V::Error>
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
                Ok(DeleteListenerRequest {
                    name: name__.unwrap_or_default(),
                    etag: etag__.unwrap_or_default(),
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.DeleteListenerRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteNamespaceRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.DeleteNamespaceRequest", len)?;
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
impl<'de> serde::Deserialize<'de> for DeleteNamespaceRequest {
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
            type Value = DeleteNamespaceRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.DeleteNamespaceRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteNamespaceRequest, V::Error>
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
                Ok(DeleteNamespaceRequest {
                    name: name__.unwrap_or_default(),
                    etag: etag__.unwrap_or_default(),
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.DeleteNamespaceRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteSubsystemRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.DeleteSubsystemRequest", len)?;
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
impl<'de> serde::Deserialize<'de> for DeleteSubsystemRequest {
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
            type Value = DeleteSubsystemRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.DeleteSubsystemRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteSubsystemRequest, V::Error>
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
                Ok(DeleteSubsystemRequest {
                    name: name__.unwrap_or_default(),
                    etag: etag__.unwrap_or_default(),
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.DeleteSubsystemRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteVolumeRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.DeleteVolumeRequest", len)?;
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
impl<'de> serde::Deserialize<'de> for DeleteVolumeRequest {
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
            type Value = DeleteVolumeRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.DeleteVolumeRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteVolumeRequest, V::Error>
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
                Ok(DeleteVolumeRequest {
                    name: name__.unwrap_or_default(),
                    etag: etag__.unwrap_or_default(),
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.DeleteVolumeRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DhGroup {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Null => "DH_GROUP_NULL",
            Self::Ffdhe2048 => "DH_GROUP_FFDHE2048",
            Self::Ffdhe3072 => "DH_GROUP_FFDHE3072",
            Self::Ffdhe4096 => "DH_GROUP_FFDHE4096",
            Self::Ffdhe6144 => "DH_GROUP_FFDHE6144",
            Self::Ffdhe8192 => "DH_GROUP_FFDHE8192",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for DhGroup {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "DH_GROUP_NULL",
            "DH_GROUP_FFDHE2048",
            "DH_GROUP_FFDHE3072",
            "DH_GROUP_FFDHE4096",
            "DH_GROUP_FFDHE6144",
            "DH_GROUP_FFDHE8192",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = DhGroup;

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
                    "DH_GROUP_NULL" => Ok(DhGroup::Null),
                    "DH_GROUP_FFDHE2048" => Ok(DhGroup::Ffdhe2048),
                    "DH_GROUP_FFDHE3072" => Ok(DhGroup::Ffdhe3072),
                    "DH_GROUP_FFDHE4096" => Ok(DhGroup::Ffdhe4096),
                    "DH_GROUP_FFDHE6144" => Ok(DhGroup::Ffdhe6144),
                    "DH_GROUP_FFDHE8192" => Ok(DhGroup::Ffdhe8192),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for DhchapHash {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "DHCHAP_HASH_UNSPECIFIED",
            Self::Sha256 => "DHCHAP_HASH_SHA256",
            Self::Sha384 => "DHCHAP_HASH_SHA384",
            Self::Sha512 => "DHCHAP_HASH_SHA512",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for DhchapHash {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "DHCHAP_HASH_UNSPECIFIED",
            "DHCHAP_HASH_SHA256",
            "DHCHAP_HASH_SHA384",
            "DHCHAP_HASH_SHA512",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = DhchapHash;

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
                    "DHCHAP_HASH_UNSPECIFIED" => Ok(DhchapHash::Unspecified),
                    "DHCHAP_HASH_SHA256" => Ok(DhchapHash::Sha256),
                    "DHCHAP_HASH_SHA384" => Ok(DhchapHash::Sha384),
                    "DHCHAP_HASH_SHA512" => Ok(DhchapHash::Sha512),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for FileBackend {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.path.is_empty() {
            len += 1;
        }
        if self.size_bytes != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.FileBackend", len)?;
        if !self.path.is_empty() {
            struct_ser.serialize_field("path", &self.path)?;
        }
        if self.size_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("sizeBytes", ToString::to_string(&self.size_bytes).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for FileBackend {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "path",
            "size_bytes",
            "sizeBytes",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Path,
            SizeBytes,
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
                            "path" => Ok(GeneratedField::Path),
                            "sizeBytes" | "size_bytes" => Ok(GeneratedField::SizeBytes),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = FileBackend;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.FileBackend")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<FileBackend, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut path__ = None;
                let mut size_bytes__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Path => {
                            if path__.is_some() {
                                return Err(serde::de::Error::duplicate_field("path"));
                            }
                            path__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SizeBytes => {
                            if size_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sizeBytes"));
                            }
                            size_bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(FileBackend {
                    path: path__.unwrap_or_default(),
                    size_bytes: size_bytes__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.FileBackend", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetListenerRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.GetListenerRequest", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetListenerRequest {
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
            type Value = GetListenerRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.GetListenerRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetListenerRequest, V::Error>
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
                Ok(GetListenerRequest {
                    name: name__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.GetListenerRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetNamespaceRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.GetNamespaceRequest", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetNamespaceRequest {
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
            type Value = GetNamespaceRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.GetNamespaceRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetNamespaceRequest, V::Error>
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
                Ok(GetNamespaceRequest {
                    name: name__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.GetNamespaceRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetNvmfStatsRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("dpu.nvmf.v1.GetNvmfStatsRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetNvmfStatsRequest {
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
            type Value = GetNvmfStatsRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.GetNvmfStatsRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetNvmfStatsRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetNvmfStatsRequest {
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.GetNvmfStatsRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetSubsystemRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.GetSubsystemRequest", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetSubsystemRequest {
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
            type Value = GetSubsystemRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.GetSubsystemRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetSubsystemRequest, V::Error>
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
                Ok(GetSubsystemRequest {
                    name: name__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.GetSubsystemRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetVolumeRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.GetVolumeRequest", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetVolumeRequest {
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
            type Value = GetVolumeRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.GetVolumeRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetVolumeRequest, V::Error>
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
                Ok(GetVolumeRequest {
                    name: name__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.GetVolumeRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for HostSecret {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.host_nqn.is_empty() {
            len += 1;
        }
        if !self.dhchap_secret.is_empty() {
            len += 1;
        }
        if !self.dhchap_ctrl_secret.is_empty() {
            len += 1;
        }
        if self.bidirectional {
            len += 1;
        }
        if self.dh_group != 0 {
            len += 1;
        }
        if self.hash != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.HostSecret", len)?;
        if !self.host_nqn.is_empty() {
            struct_ser.serialize_field("hostNqn", &self.host_nqn)?;
        }
        if !self.dhchap_secret.is_empty() {
            struct_ser.serialize_field("dhchapSecret", &self.dhchap_secret)?;
        }
        if !self.dhchap_ctrl_secret.is_empty() {
            struct_ser.serialize_field("dhchapCtrlSecret", &self.dhchap_ctrl_secret)?;
        }
        if self.bidirectional {
            struct_ser.serialize_field("bidirectional", &self.bidirectional)?;
        }
        if self.dh_group != 0 {
            let v = crate::EnumValue::<DhGroup>::of(self.dh_group);
            struct_ser.serialize_field("dhGroup", &v)?;
        }
        if self.hash != 0 {
            let v = crate::EnumValue::<DhchapHash>::of(self.hash);
            struct_ser.serialize_field("hash", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for HostSecret {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "host_nqn",
            "hostNqn",
            "dhchap_secret",
            "dhchapSecret",
            "dhchap_ctrl_secret",
            "dhchapCtrlSecret",
            "bidirectional",
            "dh_group",
            "dhGroup",
            "hash",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            HostNqn,
            DhchapSecret,
            DhchapCtrlSecret,
            Bidirectional,
            DhGroup,
            Hash,
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
                            "hostNqn" | "host_nqn" => Ok(GeneratedField::HostNqn),
                            "dhchapSecret" | "dhchap_secret" => Ok(GeneratedField::DhchapSecret),
                            "dhchapCtrlSecret" | "dhchap_ctrl_secret" => Ok(GeneratedField::DhchapCtrlSecret),
                            "bidirectional" => Ok(GeneratedField::Bidirectional),
                            "dhGroup" | "dh_group" => Ok(GeneratedField::DhGroup),
                            "hash" => Ok(GeneratedField::Hash),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = HostSecret;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.HostSecret")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<HostSecret, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut host_nqn__ = None;
                let mut dhchap_secret__ = None;
                let mut dhchap_ctrl_secret__ = None;
                let mut bidirectional__ = None;
                let mut dh_group__ = None;
                let mut hash__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::HostNqn => {
                            if host_nqn__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hostNqn"));
                            }
                            host_nqn__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DhchapSecret => {
                            if dhchap_secret__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dhchapSecret"));
                            }
                            dhchap_secret__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DhchapCtrlSecret => {
                            if dhchap_ctrl_secret__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dhchapCtrlSecret"));
                            }
                            dhchap_ctrl_secret__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Bidirectional => {
                            if bidirectional__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bidirectional"));
                            }
                            bidirectional__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DhGroup => {
                            if dh_group__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dhGroup"));
                            }
                            dh_group__ = Some(map_.next_value::<DhGroup>()? as i32);
                        }
                        GeneratedField::Hash => {
                            if hash__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hash"));
                            }
                            hash__ = Some(map_.next_value::<DhchapHash>()? as i32);
                        }
                    }
                }
                Ok(HostSecret {
                    host_nqn: host_nqn__.unwrap_or_default(),
                    dhchap_secret: dhchap_secret__.unwrap_or_default(),
                    dhchap_ctrl_secret: dhchap_ctrl_secret__.unwrap_or_default(),
                    bidirectional: bidirectional__.unwrap_or_default(),
                    dh_group: dh_group__.unwrap_or_default(),
                    hash: hash__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.HostSecret", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for HostWriteProtection {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "HOST_WRITE_PROTECTION_UNSPECIFIED",
            Self::WriteProtect => "HOST_WRITE_PROTECTION_WRITE_PROTECT",
            Self::UntilRestart => "HOST_WRITE_PROTECTION_UNTIL_RESTART",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for HostWriteProtection {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "HOST_WRITE_PROTECTION_UNSPECIFIED",
            "HOST_WRITE_PROTECTION_WRITE_PROTECT",
            "HOST_WRITE_PROTECTION_UNTIL_RESTART",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = HostWriteProtection;

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
                    "HOST_WRITE_PROTECTION_UNSPECIFIED" => Ok(HostWriteProtection::Unspecified),
                    "HOST_WRITE_PROTECTION_WRITE_PROTECT" => Ok(HostWriteProtection::WriteProtect),
                    "HOST_WRITE_PROTECTION_UNTIL_RESTART" => Ok(HostWriteProtection::UntilRestart),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for IoCounters {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.commands != 0 {
            len += 1;
        }
        if self.reads != 0 {
            len += 1;
        }
        if self.writes != 0 {
            len += 1;
        }
        if self.read_bytes != 0 {
            len += 1;
        }
        if self.write_bytes != 0 {
            len += 1;
        }
        if self.errors != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.IoCounters", len)?;
        if self.commands != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("commands", ToString::to_string(&self.commands).as_str())?;
        }
        if self.reads != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("reads", ToString::to_string(&self.reads).as_str())?;
        }
        if self.writes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("writes", ToString::to_string(&self.writes).as_str())?;
        }
        if self.read_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("readBytes", ToString::to_string(&self.read_bytes).as_str())?;
        }
        if self.write_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("writeBytes", ToString::to_string(&self.write_bytes).as_str())?;
        }
        if self.errors != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("errors", ToString::to_string(&self.errors).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for IoCounters {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "commands",
            "reads",
            "writes",
            "read_bytes",
            "readBytes",
            "write_bytes",
            "writeBytes",
            "errors",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Commands,
            Reads,
            Writes,
            ReadBytes,
            WriteBytes,
            Errors,
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
                            "commands" => Ok(GeneratedField::Commands),
                            "reads" => Ok(GeneratedField::Reads),
                            "writes" => Ok(GeneratedField::Writes),
                            "readBytes" | "read_bytes" => Ok(GeneratedField::ReadBytes),
                            "writeBytes" | "write_bytes" => Ok(GeneratedField::WriteBytes),
                            "errors" => Ok(GeneratedField::Errors),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = IoCounters;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.IoCounters")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<IoCounters, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut commands__ = None;
                let mut reads__ = None;
                let mut writes__ = None;
                let mut read_bytes__ = None;
                let mut write_bytes__ = None;
                let mut errors__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Commands => {
                            if commands__.is_some() {
                                return Err(serde::de::Error::duplicate_field("commands"));
                            }
                            commands__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Reads => {
                            if reads__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reads"));
                            }
                            reads__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Writes => {
                            if writes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("writes"));
                            }
                            writes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ReadBytes => {
                            if read_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("readBytes"));
                            }
                            read_bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::WriteBytes => {
                            if write_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("writeBytes"));
                            }
                            write_bytes__ = 
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
                    }
                }
                Ok(IoCounters {
                    commands: commands__.unwrap_or_default(),
                    reads: reads__.unwrap_or_default(),
                    writes: writes__.unwrap_or_default(),
                    read_bytes: read_bytes__.unwrap_or_default(),
                    write_bytes: write_bytes__.unwrap_or_default(),
                    errors: errors__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.IoCounters", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for LatencyHistogram {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.counts.is_empty() {
            len += 1;
        }
        if self.sum_ns != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.LatencyHistogram", len)?;
        if !self.counts.is_empty() {
            struct_ser.serialize_field("counts", &self.counts.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        }
        if self.sum_ns != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("sumNs", ToString::to_string(&self.sum_ns).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for LatencyHistogram {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "counts",
            "sum_ns",
            "sumNs",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Counts,
            SumNs,
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
                            "counts" => Ok(GeneratedField::Counts),
                            "sumNs" | "sum_ns" => Ok(GeneratedField::SumNs),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = LatencyHistogram;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.LatencyHistogram")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<LatencyHistogram, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut counts__ = None;
                let mut sum_ns__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Counts => {
                            if counts__.is_some() {
                                return Err(serde::de::Error::duplicate_field("counts"));
                            }
                            counts__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::SumNs => {
                            if sum_ns__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sumNs"));
                            }
                            sum_ns__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(LatencyHistogram {
                    counts: counts__.unwrap_or_default(),
                    sum_ns: sum_ns__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.LatencyHistogram", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListListenersRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ListListenersRequest", len)?;
        if self.page_size != 0 {
            struct_ser.serialize_field("pageSize", &self.page_size)?;
        }
        if !self.page_token.is_empty() {
            struct_ser.serialize_field("pageToken", &self.page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListListenersRequest {
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
            type Value = ListListenersRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ListListenersRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListListenersRequest, V::Error>
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
                Ok(ListListenersRequest {
                    page_size: page_size__.unwrap_or_default(),
                    page_token: page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ListListenersRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListListenersResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.listeners.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ListListenersResponse", len)?;
        if !self.listeners.is_empty() {
            struct_ser.serialize_field("listeners", &self.listeners)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListListenersResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "listeners",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Listeners,
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
                            "listeners" => Ok(GeneratedField::Listeners),
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
            type Value = ListListenersResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ListListenersResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListListenersResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut listeners__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Listeners => {
                            if listeners__.is_some() {
                                return Err(serde::de::Error::duplicate_field("listeners"));
                            }
                            listeners__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListListenersResponse {
                    listeners: listeners__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ListListenersResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListNamespacesRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.parent.is_empty() {
            len += 1;
        }
        if self.page_size != 0 {
            len += 1;
        }
        if !self.page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ListNamespacesRequest", len)?;
        if !self.parent.is_empty() {
            struct_ser.serialize_field("parent", &self.parent)?;
        }
        if self.page_size != 0 {
            struct_ser.serialize_field("pageSize", &self.page_size)?;
        }
        if !self.page_token.is_empty() {
            struct_ser.serialize_field("pageToken", &self.page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListNamespacesRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "parent",
            "page_size",
            "pageSize",
            "page_token",
            "pageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Parent,
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
                            "parent" => Ok(GeneratedField::Parent),
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
            type Value = ListNamespacesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ListNamespacesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListNamespacesRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut parent__ = None;
                let mut page_size__ = None;
                let mut page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Parent => {
                            if parent__.is_some() {
                                return Err(serde::de::Error::duplicate_field("parent"));
                            }
                            parent__ = Some(map_.next_value()?);
                        }
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
                Ok(ListNamespacesRequest {
                    parent: parent__.unwrap_or_default(),
                    page_size: page_size__.unwrap_or_default(),
                    page_token: page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ListNamespacesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListNamespacesResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.namespaces.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ListNamespacesResponse", len)?;
        if !self.namespaces.is_empty() {
            struct_ser.serialize_field("namespaces", &self.namespaces)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListNamespacesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "namespaces",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Namespaces,
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
                            "namespaces" => Ok(GeneratedField::Namespaces),
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
            type Value = ListNamespacesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ListNamespacesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListNamespacesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut namespaces__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Namespaces => {
                            if namespaces__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespaces"));
                            }
                            namespaces__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListNamespacesResponse {
                    namespaces: namespaces__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ListNamespacesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListSubsystemsRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ListSubsystemsRequest", len)?;
        if self.page_size != 0 {
            struct_ser.serialize_field("pageSize", &self.page_size)?;
        }
        if !self.page_token.is_empty() {
            struct_ser.serialize_field("pageToken", &self.page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListSubsystemsRequest {
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
            type Value = ListSubsystemsRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ListSubsystemsRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListSubsystemsRequest, V::Error>
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
                Ok(ListSubsystemsRequest {
                    page_size: page_size__.unwrap_or_default(),
                    page_token: page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ListSubsystemsRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListSubsystemsResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.subsystems.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ListSubsystemsResponse", len)?;
        if !self.subsystems.is_empty() {
            struct_ser.serialize_field("subsystems", &self.subsystems)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListSubsystemsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "subsystems",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Subsystems,
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
                            "subsystems" => Ok(GeneratedField::Subsystems),
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
            type Value = ListSubsystemsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ListSubsystemsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListSubsystemsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut subsystems__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Subsystems => {
                            if subsystems__.is_some() {
                                return Err(serde::de::Error::duplicate_field("subsystems"));
                            }
                            subsystems__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListSubsystemsResponse {
                    subsystems: subsystems__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ListSubsystemsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListVolumesRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ListVolumesRequest", len)?;
        if self.page_size != 0 {
            struct_ser.serialize_field("pageSize", &self.page_size)?;
        }
        if !self.page_token.is_empty() {
            struct_ser.serialize_field("pageToken", &self.page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListVolumesRequest {
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
            type Value = ListVolumesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ListVolumesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListVolumesRequest, V::Error>
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
                Ok(ListVolumesRequest {
                    page_size: page_size__.unwrap_or_default(),
                    page_token: page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ListVolumesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListVolumesResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.volumes.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ListVolumesResponse", len)?;
        if !self.volumes.is_empty() {
            struct_ser.serialize_field("volumes", &self.volumes)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListVolumesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "volumes",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Volumes,
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
                            "volumes" => Ok(GeneratedField::Volumes),
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
            type Value = ListVolumesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ListVolumesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListVolumesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut volumes__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Volumes => {
                            if volumes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("volumes"));
                            }
                            volumes__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListVolumesResponse {
                    volumes: volumes__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ListVolumesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Listener {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.Listener", len)?;
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
impl<'de> serde::Deserialize<'de> for Listener {
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
            type Value = Listener;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.Listener")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Listener, V::Error>
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
                Ok(Listener {
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
        deserializer.deserialize_struct("dpu.nvmf.v1.Listener", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListenerSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.trtype != 0 {
            len += 1;
        }
        if !self.address.is_empty() {
            len += 1;
        }
        if self.port != 0 {
            len += 1;
        }
        if self.allow_header_digest.is_some() {
            len += 1;
        }
        if self.allow_data_digest.is_some() {
            len += 1;
        }
        if self.discovery_only {
            len += 1;
        }
        if !self.ana_groups.is_empty() {
            len += 1;
        }
        if !self.referrals.is_empty() {
            len += 1;
        }
        if self.port_id != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ListenerSpec", len)?;
        if self.trtype != 0 {
            let v = crate::EnumValue::<TransportType>::of(self.trtype);
            struct_ser.serialize_field("trtype", &v)?;
        }
        if !self.address.is_empty() {
            struct_ser.serialize_field("address", &self.address)?;
        }
        if self.port != 0 {
            struct_ser.serialize_field("port", &self.port)?;
        }
        if let Some(v) = self.allow_header_digest.as_ref() {
            struct_ser.serialize_field("allowHeaderDigest", v)?;
        }
        if let Some(v) = self.allow_data_digest.as_ref() {
            struct_ser.serialize_field("allowDataDigest", v)?;
        }
        if self.discovery_only {
            struct_ser.serialize_field("discoveryOnly", &self.discovery_only)?;
        }
        if !self.ana_groups.is_empty() {
            struct_ser.serialize_field("anaGroups", &self.ana_groups)?;
        }
        if !self.referrals.is_empty() {
            struct_ser.serialize_field("referrals", &self.referrals)?;
        }
        if self.port_id != 0 {
            struct_ser.serialize_field("portId", &self.port_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListenerSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "trtype",
            "address",
            "port",
            "allow_header_digest",
            "allowHeaderDigest",
            "allow_data_digest",
            "allowDataDigest",
            "discovery_only",
            "discoveryOnly",
            "ana_groups",
            "anaGroups",
            "referrals",
            "port_id",
            "portId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Trtype,
            Address,
            Port,
            AllowHeaderDigest,
            AllowDataDigest,
            DiscoveryOnly,
            AnaGroups,
            Referrals,
            PortId,
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
                            "trtype" => Ok(GeneratedField::Trtype),
                            "address" => Ok(GeneratedField::Address),
                            "port" => Ok(GeneratedField::Port),
                            "allowHeaderDigest" | "allow_header_digest" => Ok(GeneratedField::AllowHeaderDigest),
                            "allowDataDigest" | "allow_data_digest" => Ok(GeneratedField::AllowDataDigest),
                            "discoveryOnly" | "discovery_only" => Ok(GeneratedField::DiscoveryOnly),
                            "anaGroups" | "ana_groups" => Ok(GeneratedField::AnaGroups),
                            "referrals" => Ok(GeneratedField::Referrals),
                            "portId" | "port_id" => Ok(GeneratedField::PortId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListenerSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ListenerSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListenerSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut trtype__ = None;
                let mut address__ = None;
                let mut port__ = None;
                let mut allow_header_digest__ = None;
                let mut allow_data_digest__ = None;
                let mut discovery_only__ = None;
                let mut ana_groups__ = None;
                let mut referrals__ = None;
                let mut port_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Trtype => {
                            if trtype__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trtype"));
                            }
                            trtype__ = Some(map_.next_value::<TransportType>()? as i32);
                        }
                        GeneratedField::Address => {
                            if address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("address"));
                            }
                            address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AllowHeaderDigest => {
                            if allow_header_digest__.is_some() {
                                return Err(serde::de::Error::duplicate_field("allowHeaderDigest"));
                            }
                            allow_header_digest__ = map_.next_value()?;
                        }
                        GeneratedField::AllowDataDigest => {
                            if allow_data_digest__.is_some() {
                                return Err(serde::de::Error::duplicate_field("allowDataDigest"));
                            }
                            allow_data_digest__ = map_.next_value()?;
                        }
                        GeneratedField::DiscoveryOnly => {
                            if discovery_only__.is_some() {
                                return Err(serde::de::Error::duplicate_field("discoveryOnly"));
                            }
                            discovery_only__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AnaGroups => {
                            if ana_groups__.is_some() {
                                return Err(serde::de::Error::duplicate_field("anaGroups"));
                            }
                            ana_groups__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Referrals => {
                            if referrals__.is_some() {
                                return Err(serde::de::Error::duplicate_field("referrals"));
                            }
                            referrals__ = Some(map_.next_value()?);
                        }
                        GeneratedField::PortId => {
                            if port_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("portId"));
                            }
                            port_id__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(ListenerSpec {
                    trtype: trtype__.unwrap_or_default(),
                    address: address__.unwrap_or_default(),
                    port: port__.unwrap_or_default(),
                    allow_header_digest: allow_header_digest__,
                    allow_data_digest: allow_data_digest__,
                    discovery_only: discovery_only__.unwrap_or_default(),
                    ana_groups: ana_groups__.unwrap_or_default(),
                    referrals: referrals__.unwrap_or_default(),
                    port_id: port_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ListenerSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListenerStatus {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.apply.is_some() {
            len += 1;
        }
        if self.port_id != 0 {
            len += 1;
        }
        if !self.ana_groups.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ListenerStatus", len)?;
        if let Some(v) = self.apply.as_ref() {
            struct_ser.serialize_field("apply", v)?;
        }
        if self.port_id != 0 {
            struct_ser.serialize_field("portId", &self.port_id)?;
        }
        if !self.ana_groups.is_empty() {
            struct_ser.serialize_field("anaGroups", &self.ana_groups)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListenerStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "apply",
            "port_id",
            "portId",
            "ana_groups",
            "anaGroups",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Apply,
            PortId,
            AnaGroups,
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
                            "apply" => Ok(GeneratedField::Apply),
                            "portId" | "port_id" => Ok(GeneratedField::PortId),
                            "anaGroups" | "ana_groups" => Ok(GeneratedField::AnaGroups),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListenerStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ListenerStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListenerStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut apply__ = None;
                let mut port_id__ = None;
                let mut ana_groups__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Apply => {
                            if apply__.is_some() {
                                return Err(serde::de::Error::duplicate_field("apply"));
                            }
                            apply__ = map_.next_value()?;
                        }
                        GeneratedField::PortId => {
                            if port_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("portId"));
                            }
                            port_id__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AnaGroups => {
                            if ana_groups__.is_some() {
                                return Err(serde::de::Error::duplicate_field("anaGroups"));
                            }
                            ana_groups__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListenerStatus {
                    apply: apply__,
                    port_id: port_id__.unwrap_or_default(),
                    ana_groups: ana_groups__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ListenerStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Namespace {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.Namespace", len)?;
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
impl<'de> serde::Deserialize<'de> for Namespace {
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
            type Value = Namespace;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.Namespace")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Namespace, V::Error>
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
                Ok(Namespace {
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
        deserializer.deserialize_struct("dpu.nvmf.v1.Namespace", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for NamespaceCounters {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.reads != 0 {
            len += 1;
        }
        if self.writes != 0 {
            len += 1;
        }
        if self.read_bytes != 0 {
            len += 1;
        }
        if self.write_bytes != 0 {
            len += 1;
        }
        if self.errors != 0 {
            len += 1;
        }
        if self.throttled != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.NamespaceCounters", len)?;
        if self.reads != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("reads", ToString::to_string(&self.reads).as_str())?;
        }
        if self.writes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("writes", ToString::to_string(&self.writes).as_str())?;
        }
        if self.read_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("readBytes", ToString::to_string(&self.read_bytes).as_str())?;
        }
        if self.write_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("writeBytes", ToString::to_string(&self.write_bytes).as_str())?;
        }
        if self.errors != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("errors", ToString::to_string(&self.errors).as_str())?;
        }
        if self.throttled != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("throttled", ToString::to_string(&self.throttled).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for NamespaceCounters {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "reads",
            "writes",
            "read_bytes",
            "readBytes",
            "write_bytes",
            "writeBytes",
            "errors",
            "throttled",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Reads,
            Writes,
            ReadBytes,
            WriteBytes,
            Errors,
            Throttled,
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
                            "reads" => Ok(GeneratedField::Reads),
                            "writes" => Ok(GeneratedField::Writes),
                            "readBytes" | "read_bytes" => Ok(GeneratedField::ReadBytes),
                            "writeBytes" | "write_bytes" => Ok(GeneratedField::WriteBytes),
                            "errors" => Ok(GeneratedField::Errors),
                            "throttled" => Ok(GeneratedField::Throttled),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = NamespaceCounters;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.NamespaceCounters")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<NamespaceCounters, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut reads__ = None;
                let mut writes__ = None;
                let mut read_bytes__ = None;
                let mut write_bytes__ = None;
                let mut errors__ = None;
                let mut throttled__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Reads => {
                            if reads__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reads"));
                            }
                            reads__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Writes => {
                            if writes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("writes"));
                            }
                            writes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ReadBytes => {
                            if read_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("readBytes"));
                            }
                            read_bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::WriteBytes => {
                            if write_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("writeBytes"));
                            }
                            write_bytes__ = 
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
                        GeneratedField::Throttled => {
                            if throttled__.is_some() {
                                return Err(serde::de::Error::duplicate_field("throttled"));
                            }
                            throttled__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(NamespaceCounters {
                    reads: reads__.unwrap_or_default(),
                    writes: writes__.unwrap_or_default(),
                    read_bytes: read_bytes__.unwrap_or_default(),
                    write_bytes: write_bytes__.unwrap_or_default(),
                    errors: errors__.unwrap_or_default(),
                    throttled: throttled__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.NamespaceCounters", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for NamespaceReservation {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.r#type != 0 {
            len += 1;
        }
        if self.registrants != 0 {
            len += 1;
        }
        if self.generation != 0 {
            len += 1;
        }
        if !self.holder_host_id.is_empty() {
            len += 1;
        }
        if self.persist_through_power_loss {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.NamespaceReservation", len)?;
        if self.r#type != 0 {
            let v = crate::EnumValue::<ReservationType>::of(self.r#type);
            struct_ser.serialize_field("type", &v)?;
        }
        if self.registrants != 0 {
            struct_ser.serialize_field("registrants", &self.registrants)?;
        }
        if self.generation != 0 {
            struct_ser.serialize_field("generation", &self.generation)?;
        }
        if !self.holder_host_id.is_empty() {
            struct_ser.serialize_field("holderHostId", &self.holder_host_id)?;
        }
        if self.persist_through_power_loss {
            struct_ser.serialize_field("persistThroughPowerLoss", &self.persist_through_power_loss)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for NamespaceReservation {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "type",
            "registrants",
            "generation",
            "holder_host_id",
            "holderHostId",
            "persist_through_power_loss",
            "persistThroughPowerLoss",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Type,
            Registrants,
            Generation,
            HolderHostId,
            PersistThroughPowerLoss,
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
                            "type" => Ok(GeneratedField::Type),
                            "registrants" => Ok(GeneratedField::Registrants),
                            "generation" => Ok(GeneratedField::Generation),
                            "holderHostId" | "holder_host_id" => Ok(GeneratedField::HolderHostId),
                            "persistThroughPowerLoss" | "persist_through_power_loss" => Ok(GeneratedField::PersistThroughPowerLoss),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = NamespaceReservation;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.NamespaceReservation")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<NamespaceReservation, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut r#type__ = None;
                let mut registrants__ = None;
                let mut generation__ = None;
                let mut holder_host_id__ = None;
                let mut persist_through_power_loss__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Type => {
                            if r#type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("type"));
                            }
                            r#type__ = Some(map_.next_value::<ReservationType>()? as i32);
                        }
                        GeneratedField::Registrants => {
                            if registrants__.is_some() {
                                return Err(serde::de::Error::duplicate_field("registrants"));
                            }
                            registrants__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Generation => {
                            if generation__.is_some() {
                                return Err(serde::de::Error::duplicate_field("generation"));
                            }
                            generation__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::HolderHostId => {
                            if holder_host_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("holderHostId"));
                            }
                            holder_host_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::PersistThroughPowerLoss => {
                            if persist_through_power_loss__.is_some() {
                                return Err(serde::de::Error::duplicate_field("persistThroughPowerLoss"));
                            }
                            persist_through_power_loss__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(NamespaceReservation {
                    r#type: r#type__.unwrap_or_default(),
                    registrants: registrants__.unwrap_or_default(),
                    generation: generation__.unwrap_or_default(),
                    holder_host_id: holder_host_id__.unwrap_or_default(),
                    persist_through_power_loss: persist_through_power_loss__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.NamespaceReservation", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for NamespaceSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.volume.is_empty() {
            len += 1;
        }
        if !self.nguid.is_empty() {
            len += 1;
        }
        if !self.uuid.is_empty() {
            len += 1;
        }
        if self.ana_group != 0 {
            len += 1;
        }
        if self.read_only {
            len += 1;
        }
        if !self.allowed_hosts.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.NamespaceSpec", len)?;
        if !self.volume.is_empty() {
            struct_ser.serialize_field("volume", &self.volume)?;
        }
        if !self.nguid.is_empty() {
            struct_ser.serialize_field("nguid", &self.nguid)?;
        }
        if !self.uuid.is_empty() {
            struct_ser.serialize_field("uuid", &self.uuid)?;
        }
        if self.ana_group != 0 {
            struct_ser.serialize_field("anaGroup", &self.ana_group)?;
        }
        if self.read_only {
            struct_ser.serialize_field("readOnly", &self.read_only)?;
        }
        if !self.allowed_hosts.is_empty() {
            struct_ser.serialize_field("allowedHosts", &self.allowed_hosts)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for NamespaceSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "volume",
            "nguid",
            "uuid",
            "ana_group",
            "anaGroup",
            "read_only",
            "readOnly",
            "allowed_hosts",
            "allowedHosts",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Volume,
            Nguid,
            Uuid,
            AnaGroup,
            ReadOnly,
            AllowedHosts,
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
                            "volume" => Ok(GeneratedField::Volume),
                            "nguid" => Ok(GeneratedField::Nguid),
                            "uuid" => Ok(GeneratedField::Uuid),
                            "anaGroup" | "ana_group" => Ok(GeneratedField::AnaGroup),
                            "readOnly" | "read_only" => Ok(GeneratedField::ReadOnly),
                            "allowedHosts" | "allowed_hosts" => Ok(GeneratedField::AllowedHosts),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = NamespaceSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.NamespaceSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<NamespaceSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut volume__ = None;
                let mut nguid__ = None;
                let mut uuid__ = None;
                let mut ana_group__ = None;
                let mut read_only__ = None;
                let mut allowed_hosts__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Volume => {
                            if volume__.is_some() {
                                return Err(serde::de::Error::duplicate_field("volume"));
                            }
                            volume__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Nguid => {
                            if nguid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nguid"));
                            }
                            nguid__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Uuid => {
                            if uuid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("uuid"));
                            }
                            uuid__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AnaGroup => {
                            if ana_group__.is_some() {
                                return Err(serde::de::Error::duplicate_field("anaGroup"));
                            }
                            ana_group__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ReadOnly => {
                            if read_only__.is_some() {
                                return Err(serde::de::Error::duplicate_field("readOnly"));
                            }
                            read_only__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AllowedHosts => {
                            if allowed_hosts__.is_some() {
                                return Err(serde::de::Error::duplicate_field("allowedHosts"));
                            }
                            allowed_hosts__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(NamespaceSpec {
                    volume: volume__.unwrap_or_default(),
                    nguid: nguid__.unwrap_or_default(),
                    uuid: uuid__.unwrap_or_default(),
                    ana_group: ana_group__.unwrap_or_default(),
                    read_only: read_only__.unwrap_or_default(),
                    allowed_hosts: allowed_hosts__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.NamespaceSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for NamespaceStats {
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
        if self.counters.is_some() {
            len += 1;
        }
        if self.reservation.is_some() {
            len += 1;
        }
        if self.host_write_protected {
            len += 1;
        }
        if self.host_write_protection != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.NamespaceStats", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if let Some(v) = self.counters.as_ref() {
            struct_ser.serialize_field("counters", v)?;
        }
        if let Some(v) = self.reservation.as_ref() {
            struct_ser.serialize_field("reservation", v)?;
        }
        if self.host_write_protected {
            struct_ser.serialize_field("hostWriteProtected", &self.host_write_protected)?;
        }
        if self.host_write_protection != 0 {
            let v = crate::EnumValue::<HostWriteProtection>::of(self.host_write_protection);
            struct_ser.serialize_field("hostWriteProtection", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for NamespaceStats {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "counters",
            "reservation",
            "host_write_protected",
            "hostWriteProtected",
            "host_write_protection",
            "hostWriteProtection",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Counters,
            Reservation,
            HostWriteProtected,
            HostWriteProtection,
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
                            "counters" => Ok(GeneratedField::Counters),
                            "reservation" => Ok(GeneratedField::Reservation),
                            "hostWriteProtected" | "host_write_protected" => Ok(GeneratedField::HostWriteProtected),
                            "hostWriteProtection" | "host_write_protection" => Ok(GeneratedField::HostWriteProtection),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = NamespaceStats;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.NamespaceStats")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<NamespaceStats, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut counters__ = None;
                let mut reservation__ = None;
                let mut host_write_protected__ = None;
                let mut host_write_protection__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Counters => {
                            if counters__.is_some() {
                                return Err(serde::de::Error::duplicate_field("counters"));
                            }
                            counters__ = map_.next_value()?;
                        }
                        GeneratedField::Reservation => {
                            if reservation__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reservation"));
                            }
                            reservation__ = map_.next_value()?;
                        }
                        GeneratedField::HostWriteProtected => {
                            if host_write_protected__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hostWriteProtected"));
                            }
                            host_write_protected__ = Some(map_.next_value()?);
                        }
                        GeneratedField::HostWriteProtection => {
                            if host_write_protection__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hostWriteProtection"));
                            }
                            host_write_protection__ = Some(map_.next_value::<HostWriteProtection>()? as i32);
                        }
                    }
                }
                Ok(NamespaceStats {
                    name: name__.unwrap_or_default(),
                    counters: counters__,
                    reservation: reservation__,
                    host_write_protected: host_write_protected__.unwrap_or_default(),
                    host_write_protection: host_write_protection__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.NamespaceStats", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for NamespaceStatus {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.apply.is_some() {
            len += 1;
        }
        if self.counters.is_some() {
            len += 1;
        }
        if self.stale {
            len += 1;
        }
        if !self.nguid.is_empty() {
            len += 1;
        }
        if !self.uuid.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.NamespaceStatus", len)?;
        if let Some(v) = self.apply.as_ref() {
            struct_ser.serialize_field("apply", v)?;
        }
        if let Some(v) = self.counters.as_ref() {
            struct_ser.serialize_field("counters", v)?;
        }
        if self.stale {
            struct_ser.serialize_field("stale", &self.stale)?;
        }
        if !self.nguid.is_empty() {
            struct_ser.serialize_field("nguid", &self.nguid)?;
        }
        if !self.uuid.is_empty() {
            struct_ser.serialize_field("uuid", &self.uuid)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for NamespaceStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "apply",
            "counters",
            "stale",
            "nguid",
            "uuid",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Apply,
            Counters,
            Stale,
            Nguid,
            Uuid,
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
                            "apply" => Ok(GeneratedField::Apply),
                            "counters" => Ok(GeneratedField::Counters),
                            "stale" => Ok(GeneratedField::Stale),
                            "nguid" => Ok(GeneratedField::Nguid),
                            "uuid" => Ok(GeneratedField::Uuid),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = NamespaceStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.NamespaceStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<NamespaceStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut apply__ = None;
                let mut counters__ = None;
                let mut stale__ = None;
                let mut nguid__ = None;
                let mut uuid__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Apply => {
                            if apply__.is_some() {
                                return Err(serde::de::Error::duplicate_field("apply"));
                            }
                            apply__ = map_.next_value()?;
                        }
                        GeneratedField::Counters => {
                            if counters__.is_some() {
                                return Err(serde::de::Error::duplicate_field("counters"));
                            }
                            counters__ = map_.next_value()?;
                        }
                        GeneratedField::Stale => {
                            if stale__.is_some() {
                                return Err(serde::de::Error::duplicate_field("stale"));
                            }
                            stale__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Nguid => {
                            if nguid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nguid"));
                            }
                            nguid__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Uuid => {
                            if uuid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("uuid"));
                            }
                            uuid__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(NamespaceStatus {
                    apply: apply__,
                    counters: counters__,
                    stale: stale__.unwrap_or_default(),
                    nguid: nguid__.unwrap_or_default(),
                    uuid: uuid__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.NamespaceStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for NvmfStats {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.connections != 0 {
            len += 1;
        }
        if self.terminated_connections != 0 {
            len += 1;
        }
        if self.keep_alive_expired != 0 {
            len += 1;
        }
        if self.connects_refused != 0 {
            len += 1;
        }
        if !self.namespaces.is_empty() {
            len += 1;
        }
        if !self.subsystems.is_empty() {
            len += 1;
        }
        if self.auth_failures != 0 {
            len += 1;
        }
        if !self.volumes.is_empty() {
            len += 1;
        }
        if self.connections_shed != 0 {
            len += 1;
        }
        if self.write_budget_waits != 0 {
            len += 1;
        }
        if self.controllers_evicted != 0 {
            len += 1;
        }
        if self.open_connections != 0 {
            len += 1;
        }
        if self.unconnected_connections != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.NvmfStats", len)?;
        if self.connections != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("connections", ToString::to_string(&self.connections).as_str())?;
        }
        if self.terminated_connections != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("terminatedConnections", ToString::to_string(&self.terminated_connections).as_str())?;
        }
        if self.keep_alive_expired != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("keepAliveExpired", ToString::to_string(&self.keep_alive_expired).as_str())?;
        }
        if self.connects_refused != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("connectsRefused", ToString::to_string(&self.connects_refused).as_str())?;
        }
        if !self.namespaces.is_empty() {
            struct_ser.serialize_field("namespaces", &self.namespaces)?;
        }
        if !self.subsystems.is_empty() {
            struct_ser.serialize_field("subsystems", &self.subsystems)?;
        }
        if self.auth_failures != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("authFailures", ToString::to_string(&self.auth_failures).as_str())?;
        }
        if !self.volumes.is_empty() {
            struct_ser.serialize_field("volumes", &self.volumes)?;
        }
        if self.connections_shed != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("connectionsShed", ToString::to_string(&self.connections_shed).as_str())?;
        }
        if self.write_budget_waits != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("writeBudgetWaits", ToString::to_string(&self.write_budget_waits).as_str())?;
        }
        if self.controllers_evicted != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("controllersEvicted", ToString::to_string(&self.controllers_evicted).as_str())?;
        }
        if self.open_connections != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("openConnections", ToString::to_string(&self.open_connections).as_str())?;
        }
        if self.unconnected_connections != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("unconnectedConnections", ToString::to_string(&self.unconnected_connections).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for NvmfStats {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "connections",
            "terminated_connections",
            "terminatedConnections",
            "keep_alive_expired",
            "keepAliveExpired",
            "connects_refused",
            "connectsRefused",
            "namespaces",
            "subsystems",
            "auth_failures",
            "authFailures",
            "volumes",
            "connections_shed",
            "connectionsShed",
            "write_budget_waits",
            "writeBudgetWaits",
            "controllers_evicted",
            "controllersEvicted",
            "open_connections",
            "openConnections",
            "unconnected_connections",
            "unconnectedConnections",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Connections,
            TerminatedConnections,
            KeepAliveExpired,
            ConnectsRefused,
            Namespaces,
            Subsystems,
            AuthFailures,
            Volumes,
            ConnectionsShed,
            WriteBudgetWaits,
            ControllersEvicted,
            OpenConnections,
            UnconnectedConnections,
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
                            "connections" => Ok(GeneratedField::Connections),
                            "terminatedConnections" | "terminated_connections" => Ok(GeneratedField::TerminatedConnections),
                            "keepAliveExpired" | "keep_alive_expired" => Ok(GeneratedField::KeepAliveExpired),
                            "connectsRefused" | "connects_refused" => Ok(GeneratedField::ConnectsRefused),
                            "namespaces" => Ok(GeneratedField::Namespaces),
                            "subsystems" => Ok(GeneratedField::Subsystems),
                            "authFailures" | "auth_failures" => Ok(GeneratedField::AuthFailures),
                            "volumes" => Ok(GeneratedField::Volumes),
                            "connectionsShed" | "connections_shed" => Ok(GeneratedField::ConnectionsShed),
                            "writeBudgetWaits" | "write_budget_waits" => Ok(GeneratedField::WriteBudgetWaits),
                            "controllersEvicted" | "controllers_evicted" => Ok(GeneratedField::ControllersEvicted),
                            "openConnections" | "open_connections" => Ok(GeneratedField::OpenConnections),
                            "unconnectedConnections" | "unconnected_connections" => Ok(GeneratedField::UnconnectedConnections),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = NvmfStats;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.NvmfStats")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<NvmfStats, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut connections__ = None;
                let mut terminated_connections__ = None;
                let mut keep_alive_expired__ = None;
                let mut connects_refused__ = None;
                let mut namespaces__ = None;
                let mut subsystems__ = None;
                let mut auth_failures__ = None;
                let mut volumes__ = None;
                let mut connections_shed__ = None;
                let mut write_budget_waits__ = None;
                let mut controllers_evicted__ = None;
                let mut open_connections__ = None;
                let mut unconnected_connections__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Connections => {
                            if connections__.is_some() {
                                return Err(serde::de::Error::duplicate_field("connections"));
                            }
                            connections__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::TerminatedConnections => {
                            if terminated_connections__.is_some() {
                                return Err(serde::de::Error::duplicate_field("terminatedConnections"));
                            }
                            terminated_connections__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::KeepAliveExpired => {
                            if keep_alive_expired__.is_some() {
                                return Err(serde::de::Error::duplicate_field("keepAliveExpired"));
                            }
                            keep_alive_expired__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ConnectsRefused => {
                            if connects_refused__.is_some() {
                                return Err(serde::de::Error::duplicate_field("connectsRefused"));
                            }
                            connects_refused__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Namespaces => {
                            if namespaces__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespaces"));
                            }
                            namespaces__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Subsystems => {
                            if subsystems__.is_some() {
                                return Err(serde::de::Error::duplicate_field("subsystems"));
                            }
                            subsystems__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AuthFailures => {
                            if auth_failures__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authFailures"));
                            }
                            auth_failures__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Volumes => {
                            if volumes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("volumes"));
                            }
                            volumes__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ConnectionsShed => {
                            if connections_shed__.is_some() {
                                return Err(serde::de::Error::duplicate_field("connectionsShed"));
                            }
                            connections_shed__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::WriteBudgetWaits => {
                            if write_budget_waits__.is_some() {
                                return Err(serde::de::Error::duplicate_field("writeBudgetWaits"));
                            }
                            write_budget_waits__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ControllersEvicted => {
                            if controllers_evicted__.is_some() {
                                return Err(serde::de::Error::duplicate_field("controllersEvicted"));
                            }
                            controllers_evicted__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::OpenConnections => {
                            if open_connections__.is_some() {
                                return Err(serde::de::Error::duplicate_field("openConnections"));
                            }
                            open_connections__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::UnconnectedConnections => {
                            if unconnected_connections__.is_some() {
                                return Err(serde::de::Error::duplicate_field("unconnectedConnections"));
                            }
                            unconnected_connections__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(NvmfStats {
                    connections: connections__.unwrap_or_default(),
                    terminated_connections: terminated_connections__.unwrap_or_default(),
                    keep_alive_expired: keep_alive_expired__.unwrap_or_default(),
                    connects_refused: connects_refused__.unwrap_or_default(),
                    namespaces: namespaces__.unwrap_or_default(),
                    subsystems: subsystems__.unwrap_or_default(),
                    auth_failures: auth_failures__.unwrap_or_default(),
                    volumes: volumes__.unwrap_or_default(),
                    connections_shed: connections_shed__.unwrap_or_default(),
                    write_budget_waits: write_budget_waits__.unwrap_or_default(),
                    controllers_evicted: controllers_evicted__.unwrap_or_default(),
                    open_connections: open_connections__.unwrap_or_default(),
                    unconnected_connections: unconnected_connections__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.NvmfStats", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ObjectStatus {
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
        if self.applied_generation != 0 {
            len += 1;
        }
        if !self.message.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.ObjectStatus", len)?;
        if self.state != 0 {
            let v = crate::EnumValue::<ApplyState>::of(self.state);
            struct_ser.serialize_field("state", &v)?;
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
impl<'de> serde::Deserialize<'de> for ObjectStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "state",
            "applied_generation",
            "appliedGeneration",
            "message",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            State,
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
            type Value = ObjectStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.ObjectStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ObjectStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut state__ = None;
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
                Ok(ObjectStatus {
                    state: state__.unwrap_or_default(),
                    applied_generation: applied_generation__.unwrap_or_default(),
                    message: message__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.ObjectStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for QueueStats {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.qid != 0 {
            len += 1;
        }
        if self.sq_size != 0 {
            len += 1;
        }
        if self.io.is_some() {
            len += 1;
        }
        if self.in_flight != 0 {
            len += 1;
        }
        if self.header_digest {
            len += 1;
        }
        if self.data_digest {
            len += 1;
        }
        if !self.peer_address.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.QueueStats", len)?;
        if self.qid != 0 {
            struct_ser.serialize_field("qid", &self.qid)?;
        }
        if self.sq_size != 0 {
            struct_ser.serialize_field("sqSize", &self.sq_size)?;
        }
        if let Some(v) = self.io.as_ref() {
            struct_ser.serialize_field("io", v)?;
        }
        if self.in_flight != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("inFlight", ToString::to_string(&self.in_flight).as_str())?;
        }
        if self.header_digest {
            struct_ser.serialize_field("headerDigest", &self.header_digest)?;
        }
        if self.data_digest {
            struct_ser.serialize_field("dataDigest", &self.data_digest)?;
        }
        if !self.peer_address.is_empty() {
            struct_ser.serialize_field("peerAddress", &self.peer_address)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for QueueStats {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "qid",
            "sq_size",
            "sqSize",
            "io",
            "in_flight",
            "inFlight",
            "header_digest",
            "headerDigest",
            "data_digest",
            "dataDigest",
            "peer_address",
            "peerAddress",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Qid,
            SqSize,
            Io,
            InFlight,
            HeaderDigest,
            DataDigest,
            PeerAddress,
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
                            "qid" => Ok(GeneratedField::Qid),
                            "sqSize" | "sq_size" => Ok(GeneratedField::SqSize),
                            "io" => Ok(GeneratedField::Io),
                            "inFlight" | "in_flight" => Ok(GeneratedField::InFlight),
                            "headerDigest" | "header_digest" => Ok(GeneratedField::HeaderDigest),
                            "dataDigest" | "data_digest" => Ok(GeneratedField::DataDigest),
                            "peerAddress" | "peer_address" => Ok(GeneratedField::PeerAddress),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = QueueStats;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.QueueStats")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<QueueStats, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut qid__ = None;
                let mut sq_size__ = None;
                let mut io__ = None;
                let mut in_flight__ = None;
                let mut header_digest__ = None;
                let mut data_digest__ = None;
                let mut peer_address__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Qid => {
                            if qid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("qid"));
                            }
                            qid__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::SqSize => {
                            if sq_size__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sqSize"));
                            }
                            sq_size__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Io => {
                            if io__.is_some() {
                                return Err(serde::de::Error::duplicate_field("io"));
                            }
                            io__ = map_.next_value()?;
                        }
                        GeneratedField::InFlight => {
                            if in_flight__.is_some() {
                                return Err(serde::de::Error::duplicate_field("inFlight"));
                            }
                            in_flight__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::HeaderDigest => {
                            if header_digest__.is_some() {
                                return Err(serde::de::Error::duplicate_field("headerDigest"));
                            }
                            header_digest__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DataDigest => {
                            if data_digest__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dataDigest"));
                            }
                            data_digest__ = Some(map_.next_value()?);
                        }
                        GeneratedField::PeerAddress => {
                            if peer_address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("peerAddress"));
                            }
                            peer_address__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(QueueStats {
                    qid: qid__.unwrap_or_default(),
                    sq_size: sq_size__.unwrap_or_default(),
                    io: io__,
                    in_flight: in_flight__.unwrap_or_default(),
                    header_digest: header_digest__.unwrap_or_default(),
                    data_digest: data_digest__.unwrap_or_default(),
                    peer_address: peer_address__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.QueueStats", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RamBackend {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.size_bytes != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.RamBackend", len)?;
        if self.size_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("sizeBytes", ToString::to_string(&self.size_bytes).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RamBackend {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "size_bytes",
            "sizeBytes",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SizeBytes,
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
                            "sizeBytes" | "size_bytes" => Ok(GeneratedField::SizeBytes),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RamBackend;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.RamBackend")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RamBackend, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut size_bytes__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SizeBytes => {
                            if size_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sizeBytes"));
                            }
                            size_bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(RamBackend {
                    size_bytes: size_bytes__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.RamBackend", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Referral {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.address.is_empty() {
            len += 1;
        }
        if self.port != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.Referral", len)?;
        if !self.address.is_empty() {
            struct_ser.serialize_field("address", &self.address)?;
        }
        if self.port != 0 {
            struct_ser.serialize_field("port", &self.port)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Referral {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "address",
            "port",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Address,
            Port,
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
                            "address" => Ok(GeneratedField::Address),
                            "port" => Ok(GeneratedField::Port),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Referral;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.Referral")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Referral, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut address__ = None;
                let mut port__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Address => {
                            if address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("address"));
                            }
                            address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(Referral {
                    address: address__.unwrap_or_default(),
                    port: port__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.Referral", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ReservationType {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "RESERVATION_TYPE_UNSPECIFIED",
            Self::WriteExclusive => "RESERVATION_TYPE_WRITE_EXCLUSIVE",
            Self::ExclusiveAccess => "RESERVATION_TYPE_EXCLUSIVE_ACCESS",
            Self::WriteExclusiveRegistrantsOnly => "RESERVATION_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY",
            Self::ExclusiveAccessRegistrantsOnly => "RESERVATION_TYPE_EXCLUSIVE_ACCESS_REGISTRANTS_ONLY",
            Self::WriteExclusiveAllRegistrants => "RESERVATION_TYPE_WRITE_EXCLUSIVE_ALL_REGISTRANTS",
            Self::ExclusiveAccessAllRegistrants => "RESERVATION_TYPE_EXCLUSIVE_ACCESS_ALL_REGISTRANTS",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for ReservationType {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "RESERVATION_TYPE_UNSPECIFIED",
            "RESERVATION_TYPE_WRITE_EXCLUSIVE",
            "RESERVATION_TYPE_EXCLUSIVE_ACCESS",
            "RESERVATION_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY",
            "RESERVATION_TYPE_EXCLUSIVE_ACCESS_REGISTRANTS_ONLY",
            "RESERVATION_TYPE_WRITE_EXCLUSIVE_ALL_REGISTRANTS",
            "RESERVATION_TYPE_EXCLUSIVE_ACCESS_ALL_REGISTRANTS",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = ReservationType;

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
                    "RESERVATION_TYPE_UNSPECIFIED" => Ok(ReservationType::Unspecified),
                    "RESERVATION_TYPE_WRITE_EXCLUSIVE" => Ok(ReservationType::WriteExclusive),
                    "RESERVATION_TYPE_EXCLUSIVE_ACCESS" => Ok(ReservationType::ExclusiveAccess),
                    "RESERVATION_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY" => Ok(ReservationType::WriteExclusiveRegistrantsOnly),
                    "RESERVATION_TYPE_EXCLUSIVE_ACCESS_REGISTRANTS_ONLY" => Ok(ReservationType::ExclusiveAccessRegistrantsOnly),
                    "RESERVATION_TYPE_WRITE_EXCLUSIVE_ALL_REGISTRANTS" => Ok(ReservationType::WriteExclusiveAllRegistrants),
                    "RESERVATION_TYPE_EXCLUSIVE_ACCESS_ALL_REGISTRANTS" => Ok(ReservationType::ExclusiveAccessAllRegistrants),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Subsystem {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.Subsystem", len)?;
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
impl<'de> serde::Deserialize<'de> for Subsystem {
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
            type Value = Subsystem;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.Subsystem")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Subsystem, V::Error>
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
                Ok(Subsystem {
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
        deserializer.deserialize_struct("dpu.nvmf.v1.Subsystem", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SubsystemSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.nqn.is_empty() {
            len += 1;
        }
        if !self.serial_number.is_empty() {
            len += 1;
        }
        if !self.model_number.is_empty() {
            len += 1;
        }
        if self.allow_any_host {
            len += 1;
        }
        if !self.allowed_hosts.is_empty() {
            len += 1;
        }
        if !self.host_secrets.is_empty() {
            len += 1;
        }
        if self.min_cntlid != 0 {
            len += 1;
        }
        if self.max_cntlid != 0 {
            len += 1;
        }
        if self.max_io_queues != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.SubsystemSpec", len)?;
        if !self.nqn.is_empty() {
            struct_ser.serialize_field("nqn", &self.nqn)?;
        }
        if !self.serial_number.is_empty() {
            struct_ser.serialize_field("serialNumber", &self.serial_number)?;
        }
        if !self.model_number.is_empty() {
            struct_ser.serialize_field("modelNumber", &self.model_number)?;
        }
        if self.allow_any_host {
            struct_ser.serialize_field("allowAnyHost", &self.allow_any_host)?;
        }
        if !self.allowed_hosts.is_empty() {
            struct_ser.serialize_field("allowedHosts", &self.allowed_hosts)?;
        }
        if !self.host_secrets.is_empty() {
            struct_ser.serialize_field("hostSecrets", &self.host_secrets)?;
        }
        if self.min_cntlid != 0 {
            struct_ser.serialize_field("minCntlid", &self.min_cntlid)?;
        }
        if self.max_cntlid != 0 {
            struct_ser.serialize_field("maxCntlid", &self.max_cntlid)?;
        }
        if self.max_io_queues != 0 {
            struct_ser.serialize_field("maxIoQueues", &self.max_io_queues)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SubsystemSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "nqn",
            "serial_number",
            "serialNumber",
            "model_number",
            "modelNumber",
            "allow_any_host",
            "allowAnyHost",
            "allowed_hosts",
            "allowedHosts",
            "host_secrets",
            "hostSecrets",
            "min_cntlid",
            "minCntlid",
            "max_cntlid",
            "maxCntlid",
            "max_io_queues",
            "maxIoQueues",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Nqn,
            SerialNumber,
            ModelNumber,
            AllowAnyHost,
            AllowedHosts,
            HostSecrets,
            MinCntlid,
            MaxCntlid,
            MaxIoQueues,
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
                            "nqn" => Ok(GeneratedField::Nqn),
                            "serialNumber" | "serial_number" => Ok(GeneratedField::SerialNumber),
                            "modelNumber" | "model_number" => Ok(GeneratedField::ModelNumber),
                            "allowAnyHost" | "allow_any_host" => Ok(GeneratedField::AllowAnyHost),
                            "allowedHosts" | "allowed_hosts" => Ok(GeneratedField::AllowedHosts),
                            "hostSecrets" | "host_secrets" => Ok(GeneratedField::HostSecrets),
                            "minCntlid" | "min_cntlid" => Ok(GeneratedField::MinCntlid),
                            "maxCntlid" | "max_cntlid" => Ok(GeneratedField::MaxCntlid),
                            "maxIoQueues" | "max_io_queues" => Ok(GeneratedField::MaxIoQueues),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SubsystemSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.SubsystemSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SubsystemSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut nqn__ = None;
                let mut serial_number__ = None;
                let mut model_number__ = None;
                let mut allow_any_host__ = None;
                let mut allowed_hosts__ = None;
                let mut host_secrets__ = None;
                let mut min_cntlid__ = None;
                let mut max_cntlid__ = None;
                let mut max_io_queues__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Nqn => {
                            if nqn__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nqn"));
                            }
                            nqn__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SerialNumber => {
                            if serial_number__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serialNumber"));
                            }
                            serial_number__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ModelNumber => {
                            if model_number__.is_some() {
                                return Err(serde::de::Error::duplicate_field("modelNumber"));
                            }
                            model_number__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AllowAnyHost => {
                            if allow_any_host__.is_some() {
                                return Err(serde::de::Error::duplicate_field("allowAnyHost"));
                            }
                            allow_any_host__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AllowedHosts => {
                            if allowed_hosts__.is_some() {
                                return Err(serde::de::Error::duplicate_field("allowedHosts"));
                            }
                            allowed_hosts__ = Some(map_.next_value()?);
                        }
                        GeneratedField::HostSecrets => {
                            if host_secrets__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hostSecrets"));
                            }
                            host_secrets__ = Some(map_.next_value()?);
                        }
                        GeneratedField::MinCntlid => {
                            if min_cntlid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("minCntlid"));
                            }
                            min_cntlid__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MaxCntlid => {
                            if max_cntlid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxCntlid"));
                            }
                            max_cntlid__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MaxIoQueues => {
                            if max_io_queues__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxIoQueues"));
                            }
                            max_io_queues__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(SubsystemSpec {
                    nqn: nqn__.unwrap_or_default(),
                    serial_number: serial_number__.unwrap_or_default(),
                    model_number: model_number__.unwrap_or_default(),
                    allow_any_host: allow_any_host__.unwrap_or_default(),
                    allowed_hosts: allowed_hosts__.unwrap_or_default(),
                    host_secrets: host_secrets__.unwrap_or_default(),
                    min_cntlid: min_cntlid__.unwrap_or_default(),
                    max_cntlid: max_cntlid__.unwrap_or_default(),
                    max_io_queues: max_io_queues__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.SubsystemSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SubsystemStats {
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
        if !self.nqn.is_empty() {
            len += 1;
        }
        if self.live_controllers != 0 {
            len += 1;
        }
        if self.connects_accepted != 0 {
            len += 1;
        }
        if self.connects_refused != 0 {
            len += 1;
        }
        if self.io.is_some() {
            len += 1;
        }
        if !self.controllers.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.SubsystemStats", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.nqn.is_empty() {
            struct_ser.serialize_field("nqn", &self.nqn)?;
        }
        if self.live_controllers != 0 {
            struct_ser.serialize_field("liveControllers", &self.live_controllers)?;
        }
        if self.connects_accepted != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("connectsAccepted", ToString::to_string(&self.connects_accepted).as_str())?;
        }
        if self.connects_refused != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("connectsRefused", ToString::to_string(&self.connects_refused).as_str())?;
        }
        if let Some(v) = self.io.as_ref() {
            struct_ser.serialize_field("io", v)?;
        }
        if !self.controllers.is_empty() {
            struct_ser.serialize_field("controllers", &self.controllers)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SubsystemStats {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "nqn",
            "live_controllers",
            "liveControllers",
            "connects_accepted",
            "connectsAccepted",
            "connects_refused",
            "connectsRefused",
            "io",
            "controllers",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Nqn,
            LiveControllers,
            ConnectsAccepted,
            ConnectsRefused,
            Io,
            Controllers,
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
                            "nqn" => Ok(GeneratedField::Nqn),
                            "liveControllers" | "live_controllers" => Ok(GeneratedField::LiveControllers),
                            "connectsAccepted" | "connects_accepted" => Ok(GeneratedField::ConnectsAccepted),
                            "connectsRefused" | "connects_refused" => Ok(GeneratedField::ConnectsRefused),
                            "io" => Ok(GeneratedField::Io),
                            "controllers" => Ok(GeneratedField::Controllers),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SubsystemStats;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.SubsystemStats")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SubsystemStats, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut nqn__ = None;
                let mut live_controllers__ = None;
                let mut connects_accepted__ = None;
                let mut connects_refused__ = None;
                let mut io__ = None;
                let mut controllers__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Nqn => {
                            if nqn__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nqn"));
                            }
                            nqn__ = Some(map_.next_value()?);
                        }
                        GeneratedField::LiveControllers => {
                            if live_controllers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("liveControllers"));
                            }
                            live_controllers__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ConnectsAccepted => {
                            if connects_accepted__.is_some() {
                                return Err(serde::de::Error::duplicate_field("connectsAccepted"));
                            }
                            connects_accepted__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ConnectsRefused => {
                            if connects_refused__.is_some() {
                                return Err(serde::de::Error::duplicate_field("connectsRefused"));
                            }
                            connects_refused__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Io => {
                            if io__.is_some() {
                                return Err(serde::de::Error::duplicate_field("io"));
                            }
                            io__ = map_.next_value()?;
                        }
                        GeneratedField::Controllers => {
                            if controllers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("controllers"));
                            }
                            controllers__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SubsystemStats {
                    name: name__.unwrap_or_default(),
                    nqn: nqn__.unwrap_or_default(),
                    live_controllers: live_controllers__.unwrap_or_default(),
                    connects_accepted: connects_accepted__.unwrap_or_default(),
                    connects_refused: connects_refused__.unwrap_or_default(),
                    io: io__,
                    controllers: controllers__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.SubsystemStats", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SubsystemStatus {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.apply.is_some() {
            len += 1;
        }
        if self.controllers != 0 {
            len += 1;
        }
        if self.stale {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.SubsystemStatus", len)?;
        if let Some(v) = self.apply.as_ref() {
            struct_ser.serialize_field("apply", v)?;
        }
        if self.controllers != 0 {
            struct_ser.serialize_field("controllers", &self.controllers)?;
        }
        if self.stale {
            struct_ser.serialize_field("stale", &self.stale)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SubsystemStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "apply",
            "controllers",
            "stale",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Apply,
            Controllers,
            Stale,
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
                            "apply" => Ok(GeneratedField::Apply),
                            "controllers" => Ok(GeneratedField::Controllers),
                            "stale" => Ok(GeneratedField::Stale),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SubsystemStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.SubsystemStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SubsystemStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut apply__ = None;
                let mut controllers__ = None;
                let mut stale__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Apply => {
                            if apply__.is_some() {
                                return Err(serde::de::Error::duplicate_field("apply"));
                            }
                            apply__ = map_.next_value()?;
                        }
                        GeneratedField::Controllers => {
                            if controllers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("controllers"));
                            }
                            controllers__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Stale => {
                            if stale__.is_some() {
                                return Err(serde::de::Error::duplicate_field("stale"));
                            }
                            stale__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SubsystemStatus {
                    apply: apply__,
                    controllers: controllers__.unwrap_or_default(),
                    stale: stale__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.SubsystemStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SyncRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.volumes.is_empty() {
            len += 1;
        }
        if !self.subsystems.is_empty() {
            len += 1;
        }
        if !self.namespaces.is_empty() {
            len += 1;
        }
        if !self.listeners.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.SyncRequest", len)?;
        if !self.volumes.is_empty() {
            struct_ser.serialize_field("volumes", &self.volumes)?;
        }
        if !self.subsystems.is_empty() {
            struct_ser.serialize_field("subsystems", &self.subsystems)?;
        }
        if !self.namespaces.is_empty() {
            struct_ser.serialize_field("namespaces", &self.namespaces)?;
        }
        if !self.listeners.is_empty() {
            struct_ser.serialize_field("listeners", &self.listeners)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SyncRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "volumes",
            "subsystems",
            "namespaces",
            "listeners",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Volumes,
            Subsystems,
            Namespaces,
            Listeners,
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
                            "volumes" => Ok(GeneratedField::Volumes),
                            "subsystems" => Ok(GeneratedField::Subsystems),
                            "namespaces" => Ok(GeneratedField::Namespaces),
                            "listeners" => Ok(GeneratedField::Listeners),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SyncRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.SyncRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SyncRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut volumes__ = None;
                let mut subsystems__ = None;
                let mut namespaces__ = None;
                let mut listeners__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Volumes => {
                            if volumes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("volumes"));
                            }
                            volumes__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Subsystems => {
                            if subsystems__.is_some() {
                                return Err(serde::de::Error::duplicate_field("subsystems"));
                            }
                            subsystems__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Namespaces => {
                            if namespaces__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespaces"));
                            }
                            namespaces__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Listeners => {
                            if listeners__.is_some() {
                                return Err(serde::de::Error::duplicate_field("listeners"));
                            }
                            listeners__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SyncRequest {
                    volumes: volumes__.unwrap_or_default(),
                    subsystems: subsystems__.unwrap_or_default(),
                    namespaces: namespaces__.unwrap_or_default(),
                    listeners: listeners__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.SyncRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SyncResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.volumes.is_empty() {
            len += 1;
        }
        if !self.subsystems.is_empty() {
            len += 1;
        }
        if !self.namespaces.is_empty() {
            len += 1;
        }
        if !self.listeners.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.SyncResponse", len)?;
        if !self.volumes.is_empty() {
            struct_ser.serialize_field("volumes", &self.volumes)?;
        }
        if !self.subsystems.is_empty() {
            struct_ser.serialize_field("subsystems", &self.subsystems)?;
        }
        if !self.namespaces.is_empty() {
            struct_ser.serialize_field("namespaces", &self.namespaces)?;
        }
        if !self.listeners.is_empty() {
            struct_ser.serialize_field("listeners", &self.listeners)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SyncResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "volumes",
            "subsystems",
            "namespaces",
            "listeners",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Volumes,
            Subsystems,
            Namespaces,
            Listeners,
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
                            "volumes" => Ok(GeneratedField::Volumes),
                            "subsystems" => Ok(GeneratedField::Subsystems),
                            "namespaces" => Ok(GeneratedField::Namespaces),
                            "listeners" => Ok(GeneratedField::Listeners),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SyncResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.SyncResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SyncResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut volumes__ = None;
                let mut subsystems__ = None;
                let mut namespaces__ = None;
                let mut listeners__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Volumes => {
                            if volumes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("volumes"));
                            }
                            volumes__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Subsystems => {
                            if subsystems__.is_some() {
                                return Err(serde::de::Error::duplicate_field("subsystems"));
                            }
                            subsystems__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Namespaces => {
                            if namespaces__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespaces"));
                            }
                            namespaces__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Listeners => {
                            if listeners__.is_some() {
                                return Err(serde::de::Error::duplicate_field("listeners"));
                            }
                            listeners__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SyncResponse {
                    volumes: volumes__.unwrap_or_default(),
                    subsystems: subsystems__.unwrap_or_default(),
                    namespaces: namespaces__.unwrap_or_default(),
                    listeners: listeners__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.SyncResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TransportType {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "TRANSPORT_TYPE_UNSPECIFIED",
            Self::Tcp => "TRANSPORT_TYPE_TCP",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for TransportType {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "TRANSPORT_TYPE_UNSPECIFIED",
            "TRANSPORT_TYPE_TCP",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = TransportType;

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
                    "TRANSPORT_TYPE_UNSPECIFIED" => Ok(TransportType::Unspecified),
                    "TRANSPORT_TYPE_TCP" => Ok(TransportType::Tcp),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateListenerRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.listener.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.UpdateListenerRequest", len)?;
        if let Some(v) = self.listener.as_ref() {
            struct_ser.serialize_field("listener", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdateListenerRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "listener",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Listener,
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
                            "listener" => Ok(GeneratedField::Listener),
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
            type Value = UpdateListenerRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.UpdateListenerRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateListenerRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut listener__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Listener => {
                            if listener__.is_some() {
                                return Err(serde::de::Error::duplicate_field("listener"));
                            }
                            listener__ = map_.next_value()?;
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
                Ok(UpdateListenerRequest {
                    listener: listener__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.UpdateListenerRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateNamespaceRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.namespace.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.UpdateNamespaceRequest", len)?;
        if let Some(v) = self.namespace.as_ref() {
            struct_ser.serialize_field("namespace", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdateNamespaceRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "namespace",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Namespace,
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
                            "namespace" => Ok(GeneratedField::Namespace),
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
            type Value = UpdateNamespaceRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.UpdateNamespaceRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateNamespaceRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut namespace__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Namespace => {
                            if namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespace"));
                            }
                            namespace__ = map_.next_value()?;
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
                Ok(UpdateNamespaceRequest {
                    namespace: namespace__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.UpdateNamespaceRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateSubsystemRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.subsystem.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.UpdateSubsystemRequest", len)?;
        if let Some(v) = self.subsystem.as_ref() {
            struct_ser.serialize_field("subsystem", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdateSubsystemRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "subsystem",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Subsystem,
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
                            "subsystem" => Ok(GeneratedField::Subsystem),
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
            type Value = UpdateSubsystemRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.UpdateSubsystemRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateSubsystemRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut subsystem__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Subsystem => {
                            if subsystem__.is_some() {
                                return Err(serde::de::Error::duplicate_field("subsystem"));
                            }
                            subsystem__ = map_.next_value()?;
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
                Ok(UpdateSubsystemRequest {
                    subsystem: subsystem__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.UpdateSubsystemRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateVolumeRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.volume.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.UpdateVolumeRequest", len)?;
        if let Some(v) = self.volume.as_ref() {
            struct_ser.serialize_field("volume", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdateVolumeRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "volume",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Volume,
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
                            "volume" => Ok(GeneratedField::Volume),
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
            type Value = UpdateVolumeRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.UpdateVolumeRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateVolumeRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut volume__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Volume => {
                            if volume__.is_some() {
                                return Err(serde::de::Error::duplicate_field("volume"));
                            }
                            volume__ = map_.next_value()?;
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
                Ok(UpdateVolumeRequest {
                    volume: volume__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.UpdateVolumeRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Volume {
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
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.Volume", len)?;
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
impl<'de> serde::Deserialize<'de> for Volume {
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
            type Value = Volume;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.Volume")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Volume, V::Error>
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
                Ok(Volume {
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
        deserializer.deserialize_struct("dpu.nvmf.v1.Volume", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for VolumeSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.block_size != 0 {
            len += 1;
        }
        if self.max_iops != 0 {
            len += 1;
        }
        if self.max_bytes_per_second != 0 {
            len += 1;
        }
        if self.backend.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.VolumeSpec", len)?;
        if self.block_size != 0 {
            struct_ser.serialize_field("blockSize", &self.block_size)?;
        }
        if self.max_iops != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("maxIops", ToString::to_string(&self.max_iops).as_str())?;
        }
        if self.max_bytes_per_second != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("maxBytesPerSecond", ToString::to_string(&self.max_bytes_per_second).as_str())?;
        }
        if let Some(v) = self.backend.as_ref() {
            match v {
                volume_spec::Backend::Ram(v) => {
                    struct_ser.serialize_field("ram", v)?;
                }
                volume_spec::Backend::File(v) => {
                    struct_ser.serialize_field("file", v)?;
                }
                volume_spec::Backend::BlockDevice(v) => {
                    struct_ser.serialize_field("blockDevice", v)?;
                }
            }
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for VolumeSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "block_size",
            "blockSize",
            "max_iops",
            "maxIops",
            "max_bytes_per_second",
            "maxBytesPerSecond",
            "ram",
            "file",
            "block_device",
            "blockDevice",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            BlockSize,
            MaxIops,
            MaxBytesPerSecond,
            Ram,
            File,
            BlockDevice,
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
                            "blockSize" | "block_size" => Ok(GeneratedField::BlockSize),
                            "maxIops" | "max_iops" => Ok(GeneratedField::MaxIops),
                            "maxBytesPerSecond" | "max_bytes_per_second" => Ok(GeneratedField::MaxBytesPerSecond),
                            "ram" => Ok(GeneratedField::Ram),
                            "file" => Ok(GeneratedField::File),
                            "blockDevice" | "block_device" => Ok(GeneratedField::BlockDevice),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = VolumeSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.VolumeSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<VolumeSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut block_size__ = None;
                let mut max_iops__ = None;
                let mut max_bytes_per_second__ = None;
                let mut backend__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::BlockSize => {
                            if block_size__.is_some() {
                                return Err(serde::de::Error::duplicate_field("blockSize"));
                            }
                            block_size__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MaxIops => {
                            if max_iops__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxIops"));
                            }
                            max_iops__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MaxBytesPerSecond => {
                            if max_bytes_per_second__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxBytesPerSecond"));
                            }
                            max_bytes_per_second__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Ram => {
                            if backend__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ram"));
                            }
                            backend__ = map_.next_value::<::std::option::Option<_>>()?.map(volume_spec::Backend::Ram)
;
                        }
                        GeneratedField::File => {
                            if backend__.is_some() {
                                return Err(serde::de::Error::duplicate_field("file"));
                            }
                            backend__ = map_.next_value::<::std::option::Option<_>>()?.map(volume_spec::Backend::File)
;
                        }
                        GeneratedField::BlockDevice => {
                            if backend__.is_some() {
                                return Err(serde::de::Error::duplicate_field("blockDevice"));
                            }
                            backend__ = map_.next_value::<::std::option::Option<_>>()?.map(volume_spec::Backend::BlockDevice)
;
                        }
                    }
                }
                Ok(VolumeSpec {
                    block_size: block_size__.unwrap_or_default(),
                    max_iops: max_iops__.unwrap_or_default(),
                    max_bytes_per_second: max_bytes_per_second__.unwrap_or_default(),
                    backend: backend__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.VolumeSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for VolumeStats {
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
        if self.size_bytes != 0 {
            len += 1;
        }
        if self.allocated_bytes.is_some() {
            len += 1;
        }
        if self.read_latency.is_some() {
            len += 1;
        }
        if self.write_latency.is_some() {
            len += 1;
        }
        if self.flush_latency.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.VolumeStats", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if self.size_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("sizeBytes", ToString::to_string(&self.size_bytes).as_str())?;
        }
        if let Some(v) = self.allocated_bytes.as_ref() {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("allocatedBytes", ToString::to_string(&v).as_str())?;
        }
        if let Some(v) = self.read_latency.as_ref() {
            struct_ser.serialize_field("readLatency", v)?;
        }
        if let Some(v) = self.write_latency.as_ref() {
            struct_ser.serialize_field("writeLatency", v)?;
        }
        if let Some(v) = self.flush_latency.as_ref() {
            struct_ser.serialize_field("flushLatency", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for VolumeStats {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "size_bytes",
            "sizeBytes",
            "allocated_bytes",
            "allocatedBytes",
            "read_latency",
            "readLatency",
            "write_latency",
            "writeLatency",
            "flush_latency",
            "flushLatency",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            SizeBytes,
            AllocatedBytes,
            ReadLatency,
            WriteLatency,
            FlushLatency,
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
                            "sizeBytes" | "size_bytes" => Ok(GeneratedField::SizeBytes),
                            "allocatedBytes" | "allocated_bytes" => Ok(GeneratedField::AllocatedBytes),
                            "readLatency" | "read_latency" => Ok(GeneratedField::ReadLatency),
                            "writeLatency" | "write_latency" => Ok(GeneratedField::WriteLatency),
                            "flushLatency" | "flush_latency" => Ok(GeneratedField::FlushLatency),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = VolumeStats;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.VolumeStats")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<VolumeStats, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut size_bytes__ = None;
                let mut allocated_bytes__ = None;
                let mut read_latency__ = None;
                let mut write_latency__ = None;
                let mut flush_latency__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SizeBytes => {
                            if size_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sizeBytes"));
                            }
                            size_bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AllocatedBytes => {
                            if allocated_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("allocatedBytes"));
                            }
                            allocated_bytes__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::ReadLatency => {
                            if read_latency__.is_some() {
                                return Err(serde::de::Error::duplicate_field("readLatency"));
                            }
                            read_latency__ = map_.next_value()?;
                        }
                        GeneratedField::WriteLatency => {
                            if write_latency__.is_some() {
                                return Err(serde::de::Error::duplicate_field("writeLatency"));
                            }
                            write_latency__ = map_.next_value()?;
                        }
                        GeneratedField::FlushLatency => {
                            if flush_latency__.is_some() {
                                return Err(serde::de::Error::duplicate_field("flushLatency"));
                            }
                            flush_latency__ = map_.next_value()?;
                        }
                    }
                }
                Ok(VolumeStats {
                    name: name__.unwrap_or_default(),
                    size_bytes: size_bytes__.unwrap_or_default(),
                    allocated_bytes: allocated_bytes__,
                    read_latency: read_latency__,
                    write_latency: write_latency__,
                    flush_latency: flush_latency__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.VolumeStats", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for VolumeStatus {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.apply.is_some() {
            len += 1;
        }
        if self.size_bytes != 0 {
            len += 1;
        }
        if self.block_count != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.nvmf.v1.VolumeStatus", len)?;
        if let Some(v) = self.apply.as_ref() {
            struct_ser.serialize_field("apply", v)?;
        }
        if self.size_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("sizeBytes", ToString::to_string(&self.size_bytes).as_str())?;
        }
        if self.block_count != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("blockCount", ToString::to_string(&self.block_count).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for VolumeStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "apply",
            "size_bytes",
            "sizeBytes",
            "block_count",
            "blockCount",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Apply,
            SizeBytes,
            BlockCount,
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
                            "apply" => Ok(GeneratedField::Apply),
                            "sizeBytes" | "size_bytes" => Ok(GeneratedField::SizeBytes),
                            "blockCount" | "block_count" => Ok(GeneratedField::BlockCount),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = VolumeStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.nvmf.v1.VolumeStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<VolumeStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut apply__ = None;
                let mut size_bytes__ = None;
                let mut block_count__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Apply => {
                            if apply__.is_some() {
                                return Err(serde::de::Error::duplicate_field("apply"));
                            }
                            apply__ = map_.next_value()?;
                        }
                        GeneratedField::SizeBytes => {
                            if size_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sizeBytes"));
                            }
                            size_bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::BlockCount => {
                            if block_count__.is_some() {
                                return Err(serde::de::Error::duplicate_field("blockCount"));
                            }
                            block_count__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(VolumeStatus {
                    apply: apply__,
                    size_bytes: size_bytes__.unwrap_or_default(),
                    block_count: block_count__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.nvmf.v1.VolumeStatus", FIELDS, GeneratedVisitor)
    }
}
