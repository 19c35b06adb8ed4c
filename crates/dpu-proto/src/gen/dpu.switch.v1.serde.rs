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
impl serde::Serialize for Bridge {
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
        if self.vlan.is_some() {
            len += 1;
        }
        if self.vni.is_some() {
            len += 1;
        }
        if self.ageing_secs != 0 {
            len += 1;
        }
        if self.mac_limit != 0 {
            len += 1;
        }
        if self.svi.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.Bridge", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if let Some(v) = self.vlan.as_ref() {
            struct_ser.serialize_field("vlan", v)?;
        }
        if let Some(v) = self.vni.as_ref() {
            struct_ser.serialize_field("vni", v)?;
        }
        if self.ageing_secs != 0 {
            struct_ser.serialize_field("ageingSecs", &self.ageing_secs)?;
        }
        if self.mac_limit != 0 {
            struct_ser.serialize_field("macLimit", &self.mac_limit)?;
        }
        if let Some(v) = self.svi.as_ref() {
            struct_ser.serialize_field("svi", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Bridge {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "vlan",
            "vni",
            "ageing_secs",
            "ageingSecs",
            "mac_limit",
            "macLimit",
            "svi",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Vlan,
            Vni,
            AgeingSecs,
            MacLimit,
            Svi,
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
                            "vlan" => Ok(GeneratedField::Vlan),
                            "vni" => Ok(GeneratedField::Vni),
                            "ageingSecs" | "ageing_secs" => Ok(GeneratedField::AgeingSecs),
                            "macLimit" | "mac_limit" => Ok(GeneratedField::MacLimit),
                            "svi" => Ok(GeneratedField::Svi),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Bridge;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.Bridge")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Bridge, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut vlan__ = None;
                let mut vni__ = None;
                let mut ageing_secs__ = None;
                let mut mac_limit__ = None;
                let mut svi__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Vlan => {
                            if vlan__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vlan"));
                            }
                            vlan__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::Vni => {
                            if vni__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vni"));
                            }
                            vni__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::AgeingSecs => {
                            if ageing_secs__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ageingSecs"));
                            }
                            ageing_secs__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MacLimit => {
                            if mac_limit__.is_some() {
                                return Err(serde::de::Error::duplicate_field("macLimit"));
                            }
                            mac_limit__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Svi => {
                            if svi__.is_some() {
                                return Err(serde::de::Error::duplicate_field("svi"));
                            }
                            svi__ = map_.next_value()?;
                        }
                    }
                }
                Ok(Bridge {
                    name: name__.unwrap_or_default(),
                    vlan: vlan__,
                    vni: vni__,
                    ageing_secs: ageing_secs__.unwrap_or_default(),
                    mac_limit: mac_limit__.unwrap_or_default(),
                    svi: svi__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.Bridge", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for BridgeResource {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.BridgeResource", len)?;
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
impl<'de> serde::Deserialize<'de> for BridgeResource {
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
            type Value = BridgeResource;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.BridgeResource")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<BridgeResource, V::Error>
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
                Ok(BridgeResource {
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
        deserializer.deserialize_struct("dpu.switch.v1.BridgeResource", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for BridgeSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.vlan.is_some() {
            len += 1;
        }
        if self.vni.is_some() {
            len += 1;
        }
        if self.ageing_secs != 0 {
            len += 1;
        }
        if self.mac_limit != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.BridgeSpec", len)?;
        if let Some(v) = self.vlan.as_ref() {
            struct_ser.serialize_field("vlan", v)?;
        }
        if let Some(v) = self.vni.as_ref() {
            struct_ser.serialize_field("vni", v)?;
        }
        if self.ageing_secs != 0 {
            struct_ser.serialize_field("ageingSecs", &self.ageing_secs)?;
        }
        if self.mac_limit != 0 {
            struct_ser.serialize_field("macLimit", &self.mac_limit)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for BridgeSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "vlan",
            "vni",
            "ageing_secs",
            "ageingSecs",
            "mac_limit",
            "macLimit",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Vlan,
            Vni,
            AgeingSecs,
            MacLimit,
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
                            "vlan" => Ok(GeneratedField::Vlan),
                            "vni" => Ok(GeneratedField::Vni),
                            "ageingSecs" | "ageing_secs" => Ok(GeneratedField::AgeingSecs),
                            "macLimit" | "mac_limit" => Ok(GeneratedField::MacLimit),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = BridgeSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.BridgeSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<BridgeSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut vlan__ = None;
                let mut vni__ = None;
                let mut ageing_secs__ = None;
                let mut mac_limit__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Vlan => {
                            if vlan__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vlan"));
                            }
                            vlan__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::Vni => {
                            if vni__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vni"));
                            }
                            vni__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::AgeingSecs => {
                            if ageing_secs__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ageingSecs"));
                            }
                            ageing_secs__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MacLimit => {
                            if mac_limit__.is_some() {
                                return Err(serde::de::Error::duplicate_field("macLimit"));
                            }
                            mac_limit__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(BridgeSpec {
                    vlan: vlan__,
                    vni: vni__,
                    ageing_secs: ageing_secs__.unwrap_or_default(),
                    mac_limit: mac_limit__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.BridgeSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for BridgeStatus {
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
        if self.vlan.is_some() {
            len += 1;
        }
        if self.vni.is_some() {
            len += 1;
        }
        if !self.members.is_empty() {
            len += 1;
        }
        if self.learned_macs != 0 {
            len += 1;
        }
        if self.mac_limit != 0 {
            len += 1;
        }
        if !self.svi.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.BridgeStatus", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if let Some(v) = self.vlan.as_ref() {
            struct_ser.serialize_field("vlan", v)?;
        }
        if let Some(v) = self.vni.as_ref() {
            struct_ser.serialize_field("vni", v)?;
        }
        if !self.members.is_empty() {
            struct_ser.serialize_field("members", &self.members)?;
        }
        if self.learned_macs != 0 {
            struct_ser.serialize_field("learnedMacs", &self.learned_macs)?;
        }
        if self.mac_limit != 0 {
            struct_ser.serialize_field("macLimit", &self.mac_limit)?;
        }
        if !self.svi.is_empty() {
            struct_ser.serialize_field("svi", &self.svi)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for BridgeStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "vlan",
            "vni",
            "members",
            "learned_macs",
            "learnedMacs",
            "mac_limit",
            "macLimit",
            "svi",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Vlan,
            Vni,
            Members,
            LearnedMacs,
            MacLimit,
            Svi,
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
                            "vlan" => Ok(GeneratedField::Vlan),
                            "vni" => Ok(GeneratedField::Vni),
                            "members" => Ok(GeneratedField::Members),
                            "learnedMacs" | "learned_macs" => Ok(GeneratedField::LearnedMacs),
                            "macLimit" | "mac_limit" => Ok(GeneratedField::MacLimit),
                            "svi" => Ok(GeneratedField::Svi),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = BridgeStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.BridgeStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<BridgeStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut vlan__ = None;
                let mut vni__ = None;
                let mut members__ = None;
                let mut learned_macs__ = None;
                let mut mac_limit__ = None;
                let mut svi__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Vlan => {
                            if vlan__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vlan"));
                            }
                            vlan__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::Vni => {
                            if vni__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vni"));
                            }
                            vni__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::Members => {
                            if members__.is_some() {
                                return Err(serde::de::Error::duplicate_field("members"));
                            }
                            members__ = Some(map_.next_value()?);
                        }
                        GeneratedField::LearnedMacs => {
                            if learned_macs__.is_some() {
                                return Err(serde::de::Error::duplicate_field("learnedMacs"));
                            }
                            learned_macs__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MacLimit => {
                            if mac_limit__.is_some() {
                                return Err(serde::de::Error::duplicate_field("macLimit"));
                            }
                            mac_limit__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Svi => {
                            if svi__.is_some() {
                                return Err(serde::de::Error::duplicate_field("svi"));
                            }
                            svi__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(BridgeStatus {
                    name: name__.unwrap_or_default(),
                    vlan: vlan__,
                    vni: vni__,
                    members: members__.unwrap_or_default(),
                    learned_macs: learned_macs__.unwrap_or_default(),
                    mac_limit: mac_limit__.unwrap_or_default(),
                    svi: svi__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.BridgeStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateBridgeRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.bridge_id.is_empty() {
            len += 1;
        }
        if self.bridge.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.CreateBridgeRequest", len)?;
        if !self.bridge_id.is_empty() {
            struct_ser.serialize_field("bridgeId", &self.bridge_id)?;
        }
        if let Some(v) = self.bridge.as_ref() {
            struct_ser.serialize_field("bridge", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateBridgeRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bridge_id",
            "bridgeId",
            "bridge",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            BridgeId,
            Bridge,
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
                            "bridgeId" | "bridge_id" => Ok(GeneratedField::BridgeId),
                            "bridge" => Ok(GeneratedField::Bridge),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateBridgeRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.CreateBridgeRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateBridgeRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bridge_id__ = None;
                let mut bridge__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::BridgeId => {
                            if bridge_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bridgeId"));
                            }
                            bridge_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Bridge => {
                            if bridge__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bridge"));
                            }
                            bridge__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateBridgeRequest {
                    bridge_id: bridge_id__.unwrap_or_default(),
                    bridge: bridge__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.CreateBridgeRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreatePortRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.port_id.is_empty() {
            len += 1;
        }
        if self.port.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.CreatePortRequest", len)?;
        if !self.port_id.is_empty() {
            struct_ser.serialize_field("portId", &self.port_id)?;
        }
        if let Some(v) = self.port.as_ref() {
            struct_ser.serialize_field("port", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreatePortRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "port_id",
            "portId",
            "port",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            PortId,
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
                            "portId" | "port_id" => Ok(GeneratedField::PortId),
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
            type Value = CreatePortRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.CreatePortRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreatePortRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut port_id__ = None;
                let mut port__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::PortId => {
                            if port_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("portId"));
                            }
                            port_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreatePortRequest {
                    port_id: port_id__.unwrap_or_default(),
                    port: port__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.CreatePortRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateRouteRequest {
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
        if !self.route_id.is_empty() {
            len += 1;
        }
        if self.route.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.CreateRouteRequest", len)?;
        if !self.parent.is_empty() {
            struct_ser.serialize_field("parent", &self.parent)?;
        }
        if !self.route_id.is_empty() {
            struct_ser.serialize_field("routeId", &self.route_id)?;
        }
        if let Some(v) = self.route.as_ref() {
            struct_ser.serialize_field("route", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateRouteRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "parent",
            "route_id",
            "routeId",
            "route",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Parent,
            RouteId,
            Route,
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
                            "routeId" | "route_id" => Ok(GeneratedField::RouteId),
                            "route" => Ok(GeneratedField::Route),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateRouteRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.CreateRouteRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateRouteRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut parent__ = None;
                let mut route_id__ = None;
                let mut route__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Parent => {
                            if parent__.is_some() {
                                return Err(serde::de::Error::duplicate_field("parent"));
                            }
                            parent__ = Some(map_.next_value()?);
                        }
                        GeneratedField::RouteId => {
                            if route_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("routeId"));
                            }
                            route_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Route => {
                            if route__.is_some() {
                                return Err(serde::de::Error::duplicate_field("route"));
                            }
                            route__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateRouteRequest {
                    parent: parent__.unwrap_or_default(),
                    route_id: route_id__.unwrap_or_default(),
                    route: route__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.CreateRouteRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateStaticMacRequest {
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
        if !self.static_mac_id.is_empty() {
            len += 1;
        }
        if self.static_mac.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.CreateStaticMacRequest", len)?;
        if !self.parent.is_empty() {
            struct_ser.serialize_field("parent", &self.parent)?;
        }
        if !self.static_mac_id.is_empty() {
            struct_ser.serialize_field("staticMacId", &self.static_mac_id)?;
        }
        if let Some(v) = self.static_mac.as_ref() {
            struct_ser.serialize_field("staticMac", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateStaticMacRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "parent",
            "static_mac_id",
            "staticMacId",
            "static_mac",
            "staticMac",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Parent,
            StaticMacId,
            StaticMac,
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
                            "staticMacId" | "static_mac_id" => Ok(GeneratedField::StaticMacId),
                            "staticMac" | "static_mac" => Ok(GeneratedField::StaticMac),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateStaticMacRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.CreateStaticMacRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateStaticMacRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut parent__ = None;
                let mut static_mac_id__ = None;
                let mut static_mac__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Parent => {
                            if parent__.is_some() {
                                return Err(serde::de::Error::duplicate_field("parent"));
                            }
                            parent__ = Some(map_.next_value()?);
                        }
                        GeneratedField::StaticMacId => {
                            if static_mac_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("staticMacId"));
                            }
                            static_mac_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::StaticMac => {
                            if static_mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("staticMac"));
                            }
                            static_mac__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateStaticMacRequest {
                    parent: parent__.unwrap_or_default(),
                    static_mac_id: static_mac_id__.unwrap_or_default(),
                    static_mac: static_mac__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.CreateStaticMacRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateSviRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.svi_id.is_empty() {
            len += 1;
        }
        if self.svi.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.CreateSviRequest", len)?;
        if !self.svi_id.is_empty() {
            struct_ser.serialize_field("sviId", &self.svi_id)?;
        }
        if let Some(v) = self.svi.as_ref() {
            struct_ser.serialize_field("svi", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateSviRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "svi_id",
            "sviId",
            "svi",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SviId,
            Svi,
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
                            "sviId" | "svi_id" => Ok(GeneratedField::SviId),
                            "svi" => Ok(GeneratedField::Svi),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateSviRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.CreateSviRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateSviRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut svi_id__ = None;
                let mut svi__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SviId => {
                            if svi_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sviId"));
                            }
                            svi_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Svi => {
                            if svi__.is_some() {
                                return Err(serde::de::Error::duplicate_field("svi"));
                            }
                            svi__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateSviRequest {
                    svi_id: svi_id__.unwrap_or_default(),
                    svi: svi__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.CreateSviRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateVrfRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.vrf_id.is_empty() {
            len += 1;
        }
        if self.vrf.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.CreateVrfRequest", len)?;
        if !self.vrf_id.is_empty() {
            struct_ser.serialize_field("vrfId", &self.vrf_id)?;
        }
        if let Some(v) = self.vrf.as_ref() {
            struct_ser.serialize_field("vrf", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateVrfRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "vrf_id",
            "vrfId",
            "vrf",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            VrfId,
            Vrf,
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
                            "vrfId" | "vrf_id" => Ok(GeneratedField::VrfId),
                            "vrf" => Ok(GeneratedField::Vrf),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateVrfRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.CreateVrfRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateVrfRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut vrf_id__ = None;
                let mut vrf__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::VrfId => {
                            if vrf_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vrfId"));
                            }
                            vrf_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Vrf => {
                            if vrf__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vrf"));
                            }
                            vrf__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateVrfRequest {
                    vrf_id: vrf_id__.unwrap_or_default(),
                    vrf: vrf__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.CreateVrfRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for CreateVtepRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.vtep_id.is_empty() {
            len += 1;
        }
        if self.vtep.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.CreateVtepRequest", len)?;
        if !self.vtep_id.is_empty() {
            struct_ser.serialize_field("vtepId", &self.vtep_id)?;
        }
        if let Some(v) = self.vtep.as_ref() {
            struct_ser.serialize_field("vtep", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CreateVtepRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "vtep_id",
            "vtepId",
            "vtep",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            VtepId,
            Vtep,
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
                            "vtepId" | "vtep_id" => Ok(GeneratedField::VtepId),
                            "vtep" => Ok(GeneratedField::Vtep),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CreateVtepRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.CreateVtepRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CreateVtepRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut vtep_id__ = None;
                let mut vtep__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::VtepId => {
                            if vtep_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vtepId"));
                            }
                            vtep_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Vtep => {
                            if vtep__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vtep"));
                            }
                            vtep__ = map_.next_value()?;
                        }
                    }
                }
                Ok(CreateVtepRequest {
                    vtep_id: vtep_id__.unwrap_or_default(),
                    vtep: vtep__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.CreateVtepRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DeleteResourceRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.DeleteResourceRequest", len)?;
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
impl<'de> serde::Deserialize<'de> for DeleteResourceRequest {
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
            type Value = DeleteResourceRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.DeleteResourceRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DeleteResourceRequest, V::Error>
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
                Ok(DeleteResourceRequest {
                    name: name__.unwrap_or_default(),
                    etag: etag__.unwrap_or_default(),
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.DeleteResourceRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Encap {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "ENCAP_UNSPECIFIED",
            Self::Vxlan => "ENCAP_VXLAN",
            Self::Geneve => "ENCAP_GENEVE",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for Encap {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "ENCAP_UNSPECIFIED",
            "ENCAP_VXLAN",
            "ENCAP_GENEVE",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = Encap;

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
                    "ENCAP_UNSPECIFIED" => Ok(Encap::Unspecified),
                    "ENCAP_VXLAN" => Ok(Encap::Vxlan),
                    "ENCAP_GENEVE" => Ok(Encap::Geneve),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Flow {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.key.is_empty() {
            len += 1;
        }
        if !self.action.is_empty() {
            len += 1;
        }
        if self.current {
            len += 1;
        }
        if self.packets != 0 {
            len += 1;
        }
        if self.bytes != 0 {
            len += 1;
        }
        if self.age_ms != 0 {
            len += 1;
        }
        if self.idle_ms != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.Flow", len)?;
        if !self.key.is_empty() {
            struct_ser.serialize_field("key", &self.key)?;
        }
        if !self.action.is_empty() {
            struct_ser.serialize_field("action", &self.action)?;
        }
        if self.current {
            struct_ser.serialize_field("current", &self.current)?;
        }
        if self.packets != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("packets", ToString::to_string(&self.packets).as_str())?;
        }
        if self.bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("bytes", ToString::to_string(&self.bytes).as_str())?;
        }
        if self.age_ms != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("ageMs", ToString::to_string(&self.age_ms).as_str())?;
        }
        if self.idle_ms != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("idleMs", ToString::to_string(&self.idle_ms).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Flow {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "key",
            "action",
            "current",
            "packets",
            "bytes",
            "age_ms",
            "ageMs",
            "idle_ms",
            "idleMs",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Key,
            Action,
            Current,
            Packets,
            Bytes,
            AgeMs,
            IdleMs,
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
                            "key" => Ok(GeneratedField::Key),
                            "action" => Ok(GeneratedField::Action),
                            "current" => Ok(GeneratedField::Current),
                            "packets" => Ok(GeneratedField::Packets),
                            "bytes" => Ok(GeneratedField::Bytes),
                            "ageMs" | "age_ms" => Ok(GeneratedField::AgeMs),
                            "idleMs" | "idle_ms" => Ok(GeneratedField::IdleMs),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Flow;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.Flow")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Flow, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut key__ = None;
                let mut action__ = None;
                let mut current__ = None;
                let mut packets__ = None;
                let mut bytes__ = None;
                let mut age_ms__ = None;
                let mut idle_ms__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Key => {
                            if key__.is_some() {
                                return Err(serde::de::Error::duplicate_field("key"));
                            }
                            key__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Action => {
                            if action__.is_some() {
                                return Err(serde::de::Error::duplicate_field("action"));
                            }
                            action__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Current => {
                            if current__.is_some() {
                                return Err(serde::de::Error::duplicate_field("current"));
                            }
                            current__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Packets => {
                            if packets__.is_some() {
                                return Err(serde::de::Error::duplicate_field("packets"));
                            }
                            packets__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Bytes => {
                            if bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bytes"));
                            }
                            bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AgeMs => {
                            if age_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ageMs"));
                            }
                            age_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::IdleMs => {
                            if idle_ms__.is_some() {
                                return Err(serde::de::Error::duplicate_field("idleMs"));
                            }
                            idle_ms__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(Flow {
                    key: key__.unwrap_or_default(),
                    action: action__.unwrap_or_default(),
                    current: current__.unwrap_or_default(),
                    packets: packets__.unwrap_or_default(),
                    bytes: bytes__.unwrap_or_default(),
                    age_ms: age_ms__.unwrap_or_default(),
                    idle_ms: idle_ms__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.Flow", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for FlowCacheStatus {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.entries != 0 {
            len += 1;
        }
        if self.capacity != 0 {
            len += 1;
        }
        if self.hits != 0 {
            len += 1;
        }
        if self.misses != 0 {
            len += 1;
        }
        if self.invalidated != 0 {
            len += 1;
        }
        if self.expired != 0 {
            len += 1;
        }
        if self.full != 0 {
            len += 1;
        }
        if self.evicted != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.FlowCacheStatus", len)?;
        if self.entries != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("entries", ToString::to_string(&self.entries).as_str())?;
        }
        if self.capacity != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("capacity", ToString::to_string(&self.capacity).as_str())?;
        }
        if self.hits != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("hits", ToString::to_string(&self.hits).as_str())?;
        }
        if self.misses != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("misses", ToString::to_string(&self.misses).as_str())?;
        }
        if self.invalidated != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("invalidated", ToString::to_string(&self.invalidated).as_str())?;
        }
        if self.expired != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("expired", ToString::to_string(&self.expired).as_str())?;
        }
        if self.full != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("full", ToString::to_string(&self.full).as_str())?;
        }
        if self.evicted != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("evicted", ToString::to_string(&self.evicted).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for FlowCacheStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "entries",
            "capacity",
            "hits",
            "misses",
            "invalidated",
            "expired",
            "full",
            "evicted",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Entries,
            Capacity,
            Hits,
            Misses,
            Invalidated,
            Expired,
            Full,
            Evicted,
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
                            "entries" => Ok(GeneratedField::Entries),
                            "capacity" => Ok(GeneratedField::Capacity),
                            "hits" => Ok(GeneratedField::Hits),
                            "misses" => Ok(GeneratedField::Misses),
                            "invalidated" => Ok(GeneratedField::Invalidated),
                            "expired" => Ok(GeneratedField::Expired),
                            "full" => Ok(GeneratedField::Full),
                            "evicted" => Ok(GeneratedField::Evicted),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = FlowCacheStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.FlowCacheStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<FlowCacheStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut entries__ = None;
                let mut capacity__ = None;
                let mut hits__ = None;
                let mut misses__ = None;
                let mut invalidated__ = None;
                let mut expired__ = None;
                let mut full__ = None;
                let mut evicted__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Entries => {
                            if entries__.is_some() {
                                return Err(serde::de::Error::duplicate_field("entries"));
                            }
                            entries__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Capacity => {
                            if capacity__.is_some() {
                                return Err(serde::de::Error::duplicate_field("capacity"));
                            }
                            capacity__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Hits => {
                            if hits__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hits"));
                            }
                            hits__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Misses => {
                            if misses__.is_some() {
                                return Err(serde::de::Error::duplicate_field("misses"));
                            }
                            misses__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Invalidated => {
                            if invalidated__.is_some() {
                                return Err(serde::de::Error::duplicate_field("invalidated"));
                            }
                            invalidated__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Expired => {
                            if expired__.is_some() {
                                return Err(serde::de::Error::duplicate_field("expired"));
                            }
                            expired__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Full => {
                            if full__.is_some() {
                                return Err(serde::de::Error::duplicate_field("full"));
                            }
                            full__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Evicted => {
                            if evicted__.is_some() {
                                return Err(serde::de::Error::duplicate_field("evicted"));
                            }
                            evicted__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(FlowCacheStatus {
                    entries: entries__.unwrap_or_default(),
                    capacity: capacity__.unwrap_or_default(),
                    hits: hits__.unwrap_or_default(),
                    misses: misses__.unwrap_or_default(),
                    invalidated: invalidated__.unwrap_or_default(),
                    expired: expired__.unwrap_or_default(),
                    full: full__.unwrap_or_default(),
                    evicted: evicted__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.FlowCacheStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetConfigRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("dpu.switch.v1.GetConfigRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetConfigRequest {
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
            type Value = GetConfigRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.GetConfigRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetConfigRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetConfigRequest {
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.GetConfigRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetResourceRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.GetResourceRequest", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetResourceRequest {
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
            type Value = GetResourceRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.GetResourceRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetResourceRequest, V::Error>
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
                Ok(GetResourceRequest {
                    name: name__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.GetResourceRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetStatusRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("dpu.switch.v1.GetStatusRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetStatusRequest {
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
            type Value = GetStatusRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.GetStatusRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetStatusRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetStatusRequest {
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.GetStatusRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListBridgesResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.bridges.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListBridgesResponse", len)?;
        if !self.bridges.is_empty() {
            struct_ser.serialize_field("bridges", &self.bridges)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListBridgesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bridges",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Bridges,
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
                            "bridges" => Ok(GeneratedField::Bridges),
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
            type Value = ListBridgesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListBridgesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListBridgesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bridges__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Bridges => {
                            if bridges__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bridges"));
                            }
                            bridges__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListBridgesResponse {
                    bridges: bridges__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListBridgesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListChildrenRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListChildrenRequest", len)?;
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
impl<'de> serde::Deserialize<'de> for ListChildrenRequest {
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
            type Value = ListChildrenRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListChildrenRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListChildrenRequest, V::Error>
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
                Ok(ListChildrenRequest {
                    parent: parent__.unwrap_or_default(),
                    page_size: page_size__.unwrap_or_default(),
                    page_token: page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListChildrenRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListFlowsResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.flows.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        if self.total != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListFlowsResponse", len)?;
        if !self.flows.is_empty() {
            struct_ser.serialize_field("flows", &self.flows)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        if self.total != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("total", ToString::to_string(&self.total).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListFlowsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "flows",
            "next_page_token",
            "nextPageToken",
            "total",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Flows,
            NextPageToken,
            Total,
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
                            "flows" => Ok(GeneratedField::Flows),
                            "nextPageToken" | "next_page_token" => Ok(GeneratedField::NextPageToken),
                            "total" => Ok(GeneratedField::Total),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListFlowsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListFlowsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListFlowsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut flows__ = None;
                let mut next_page_token__ = None;
                let mut total__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Flows => {
                            if flows__.is_some() {
                                return Err(serde::de::Error::duplicate_field("flows"));
                            }
                            flows__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Total => {
                            if total__.is_some() {
                                return Err(serde::de::Error::duplicate_field("total"));
                            }
                            total__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(ListFlowsResponse {
                    flows: flows__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                    total: total__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListFlowsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListMacEntriesResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.entries.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListMacEntriesResponse", len)?;
        if !self.entries.is_empty() {
            struct_ser.serialize_field("entries", &self.entries)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListMacEntriesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "entries",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Entries,
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
                            "entries" => Ok(GeneratedField::Entries),
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
            type Value = ListMacEntriesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListMacEntriesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListMacEntriesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut entries__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Entries => {
                            if entries__.is_some() {
                                return Err(serde::de::Error::duplicate_field("entries"));
                            }
                            entries__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListMacEntriesResponse {
                    entries: entries__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListMacEntriesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListNeighboursResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.neighbours.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        if !self.routes.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListNeighboursResponse", len)?;
        if !self.neighbours.is_empty() {
            struct_ser.serialize_field("neighbours", &self.neighbours)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        if !self.routes.is_empty() {
            struct_ser.serialize_field("routes", &self.routes)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListNeighboursResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "neighbours",
            "next_page_token",
            "nextPageToken",
            "routes",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Neighbours,
            NextPageToken,
            Routes,
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
                            "neighbours" => Ok(GeneratedField::Neighbours),
                            "nextPageToken" | "next_page_token" => Ok(GeneratedField::NextPageToken),
                            "routes" => Ok(GeneratedField::Routes),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ListNeighboursResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListNeighboursResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListNeighboursResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut neighbours__ = None;
                let mut next_page_token__ = None;
                let mut routes__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Neighbours => {
                            if neighbours__.is_some() {
                                return Err(serde::de::Error::duplicate_field("neighbours"));
                            }
                            neighbours__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Routes => {
                            if routes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("routes"));
                            }
                            routes__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListNeighboursResponse {
                    neighbours: neighbours__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                    routes: routes__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListNeighboursResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListPortStatusesResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.ports.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListPortStatusesResponse", len)?;
        if !self.ports.is_empty() {
            struct_ser.serialize_field("ports", &self.ports)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListPortStatusesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "ports",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Ports,
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
                            "ports" => Ok(GeneratedField::Ports),
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
            type Value = ListPortStatusesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListPortStatusesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListPortStatusesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut ports__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Ports => {
                            if ports__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ports"));
                            }
                            ports__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListPortStatusesResponse {
                    ports: ports__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListPortStatusesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListPortsResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.ports.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListPortsResponse", len)?;
        if !self.ports.is_empty() {
            struct_ser.serialize_field("ports", &self.ports)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListPortsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "ports",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Ports,
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
                            "ports" => Ok(GeneratedField::Ports),
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
            type Value = ListPortsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListPortsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListPortsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut ports__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Ports => {
                            if ports__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ports"));
                            }
                            ports__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListPortsResponse {
                    ports: ports__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListPortsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListRequest", len)?;
        if self.page_size != 0 {
            struct_ser.serialize_field("pageSize", &self.page_size)?;
        }
        if !self.page_token.is_empty() {
            struct_ser.serialize_field("pageToken", &self.page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListRequest {
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
            type Value = ListRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListRequest, V::Error>
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
                Ok(ListRequest {
                    page_size: page_size__.unwrap_or_default(),
                    page_token: page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListResourcesRequest {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListResourcesRequest", len)?;
        if self.page_size != 0 {
            struct_ser.serialize_field("pageSize", &self.page_size)?;
        }
        if !self.page_token.is_empty() {
            struct_ser.serialize_field("pageToken", &self.page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListResourcesRequest {
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
            type Value = ListResourcesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListResourcesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListResourcesRequest, V::Error>
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
                Ok(ListResourcesRequest {
                    page_size: page_size__.unwrap_or_default(),
                    page_token: page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListResourcesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListRoutesResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.routes.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListRoutesResponse", len)?;
        if !self.routes.is_empty() {
            struct_ser.serialize_field("routes", &self.routes)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListRoutesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "routes",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Routes,
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
                            "routes" => Ok(GeneratedField::Routes),
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
            type Value = ListRoutesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListRoutesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListRoutesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut routes__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Routes => {
                            if routes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("routes"));
                            }
                            routes__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListRoutesResponse {
                    routes: routes__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListRoutesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListStaticMacsResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.static_macs.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListStaticMacsResponse", len)?;
        if !self.static_macs.is_empty() {
            struct_ser.serialize_field("staticMacs", &self.static_macs)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListStaticMacsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "static_macs",
            "staticMacs",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            StaticMacs,
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
                            "staticMacs" | "static_macs" => Ok(GeneratedField::StaticMacs),
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
            type Value = ListStaticMacsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListStaticMacsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListStaticMacsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut static_macs__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::StaticMacs => {
                            if static_macs__.is_some() {
                                return Err(serde::de::Error::duplicate_field("staticMacs"));
                            }
                            static_macs__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListStaticMacsResponse {
                    static_macs: static_macs__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListStaticMacsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListSvisResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.svis.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListSvisResponse", len)?;
        if !self.svis.is_empty() {
            struct_ser.serialize_field("svis", &self.svis)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListSvisResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "svis",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Svis,
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
                            "svis" => Ok(GeneratedField::Svis),
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
            type Value = ListSvisResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListSvisResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListSvisResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut svis__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Svis => {
                            if svis__.is_some() {
                                return Err(serde::de::Error::duplicate_field("svis"));
                            }
                            svis__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListSvisResponse {
                    svis: svis__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListSvisResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListVrfsResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.vrfs.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListVrfsResponse", len)?;
        if !self.vrfs.is_empty() {
            struct_ser.serialize_field("vrfs", &self.vrfs)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListVrfsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "vrfs",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Vrfs,
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
                            "vrfs" => Ok(GeneratedField::Vrfs),
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
            type Value = ListVrfsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListVrfsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListVrfsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut vrfs__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Vrfs => {
                            if vrfs__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vrfs"));
                            }
                            vrfs__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListVrfsResponse {
                    vrfs: vrfs__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListVrfsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ListVtepsResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.vteps.is_empty() {
            len += 1;
        }
        if !self.next_page_token.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ListVtepsResponse", len)?;
        if !self.vteps.is_empty() {
            struct_ser.serialize_field("vteps", &self.vteps)?;
        }
        if !self.next_page_token.is_empty() {
            struct_ser.serialize_field("nextPageToken", &self.next_page_token)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ListVtepsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "vteps",
            "next_page_token",
            "nextPageToken",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Vteps,
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
                            "vteps" => Ok(GeneratedField::Vteps),
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
            type Value = ListVtepsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.ListVtepsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ListVtepsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut vteps__ = None;
                let mut next_page_token__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Vteps => {
                            if vteps__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vteps"));
                            }
                            vteps__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextPageToken => {
                            if next_page_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextPageToken"));
                            }
                            next_page_token__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ListVtepsResponse {
                    vteps: vteps__.unwrap_or_default(),
                    next_page_token: next_page_token__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.ListVtepsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for MacEntry {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.bridge.is_empty() {
            len += 1;
        }
        if !self.mac.is_empty() {
            len += 1;
        }
        if !self.dest.is_empty() {
            len += 1;
        }
        if self.is_static {
            len += 1;
        }
        if self.age_secs != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.MacEntry", len)?;
        if !self.bridge.is_empty() {
            struct_ser.serialize_field("bridge", &self.bridge)?;
        }
        if !self.mac.is_empty() {
            struct_ser.serialize_field("mac", &self.mac)?;
        }
        if !self.dest.is_empty() {
            struct_ser.serialize_field("dest", &self.dest)?;
        }
        if self.is_static {
            struct_ser.serialize_field("isStatic", &self.is_static)?;
        }
        if self.age_secs != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("ageSecs", ToString::to_string(&self.age_secs).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for MacEntry {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bridge",
            "mac",
            "dest",
            "is_static",
            "isStatic",
            "age_secs",
            "ageSecs",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Bridge,
            Mac,
            Dest,
            IsStatic,
            AgeSecs,
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
                            "bridge" => Ok(GeneratedField::Bridge),
                            "mac" => Ok(GeneratedField::Mac),
                            "dest" => Ok(GeneratedField::Dest),
                            "isStatic" | "is_static" => Ok(GeneratedField::IsStatic),
                            "ageSecs" | "age_secs" => Ok(GeneratedField::AgeSecs),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = MacEntry;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.MacEntry")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<MacEntry, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bridge__ = None;
                let mut mac__ = None;
                let mut dest__ = None;
                let mut is_static__ = None;
                let mut age_secs__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Bridge => {
                            if bridge__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bridge"));
                            }
                            bridge__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mac => {
                            if mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mac"));
                            }
                            mac__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Dest => {
                            if dest__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dest"));
                            }
                            dest__ = Some(map_.next_value()?);
                        }
                        GeneratedField::IsStatic => {
                            if is_static__.is_some() {
                                return Err(serde::de::Error::duplicate_field("isStatic"));
                            }
                            is_static__ = Some(map_.next_value()?);
                        }
                        GeneratedField::AgeSecs => {
                            if age_secs__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ageSecs"));
                            }
                            age_secs__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(MacEntry {
                    bridge: bridge__.unwrap_or_default(),
                    mac: mac__.unwrap_or_default(),
                    dest: dest__.unwrap_or_default(),
                    is_static: is_static__.unwrap_or_default(),
                    age_secs: age_secs__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.MacEntry", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Neighbour {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.vrf.is_empty() {
            len += 1;
        }
        if !self.ip.is_empty() {
            len += 1;
        }
        if !self.mac.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.Neighbour", len)?;
        if !self.vrf.is_empty() {
            struct_ser.serialize_field("vrf", &self.vrf)?;
        }
        if !self.ip.is_empty() {
            struct_ser.serialize_field("ip", &self.ip)?;
        }
        if !self.mac.is_empty() {
            struct_ser.serialize_field("mac", &self.mac)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Neighbour {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "vrf",
            "ip",
            "mac",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Vrf,
            Ip,
            Mac,
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
                            "vrf" => Ok(GeneratedField::Vrf),
                            "ip" => Ok(GeneratedField::Ip),
                            "mac" => Ok(GeneratedField::Mac),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Neighbour;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.Neighbour")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Neighbour, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut vrf__ = None;
                let mut ip__ = None;
                let mut mac__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Vrf => {
                            if vrf__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vrf"));
                            }
                            vrf__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ip => {
                            if ip__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ip"));
                            }
                            ip__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mac => {
                            if mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mac"));
                            }
                            mac__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Neighbour {
                    vrf: vrf__.unwrap_or_default(),
                    ip: ip__.unwrap_or_default(),
                    mac: mac__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.Neighbour", FIELDS, GeneratedVisitor)
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.ObjectStatus", len)?;
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
                formatter.write_str("struct dpu.switch.v1.ObjectStatus")
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
        deserializer.deserialize_struct("dpu.switch.v1.ObjectStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Port {
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
        if self.mode != 0 {
            len += 1;
        }
        if self.vlan != 0 {
            len += 1;
        }
        if !self.vlans.is_empty() {
            len += 1;
        }
        if self.native_vlan.is_some() {
            len += 1;
        }
        if self.mtu != 0 {
            len += 1;
        }
        if self.admin_down {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.Port", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if self.mode != 0 {
            let v = crate::EnumValue::<PortMode>::of(self.mode);
            struct_ser.serialize_field("mode", &v)?;
        }
        if self.vlan != 0 {
            struct_ser.serialize_field("vlan", &self.vlan)?;
        }
        if !self.vlans.is_empty() {
            struct_ser.serialize_field("vlans", &self.vlans)?;
        }
        if let Some(v) = self.native_vlan.as_ref() {
            struct_ser.serialize_field("nativeVlan", v)?;
        }
        if self.mtu != 0 {
            struct_ser.serialize_field("mtu", &self.mtu)?;
        }
        if self.admin_down {
            struct_ser.serialize_field("adminDown", &self.admin_down)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Port {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "mode",
            "vlan",
            "vlans",
            "native_vlan",
            "nativeVlan",
            "mtu",
            "admin_down",
            "adminDown",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Mode,
            Vlan,
            Vlans,
            NativeVlan,
            Mtu,
            AdminDown,
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
                            "mode" => Ok(GeneratedField::Mode),
                            "vlan" => Ok(GeneratedField::Vlan),
                            "vlans" => Ok(GeneratedField::Vlans),
                            "nativeVlan" | "native_vlan" => Ok(GeneratedField::NativeVlan),
                            "mtu" => Ok(GeneratedField::Mtu),
                            "adminDown" | "admin_down" => Ok(GeneratedField::AdminDown),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Port;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.Port")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Port, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut mode__ = None;
                let mut vlan__ = None;
                let mut vlans__ = None;
                let mut native_vlan__ = None;
                let mut mtu__ = None;
                let mut admin_down__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mode => {
                            if mode__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mode"));
                            }
                            mode__ = Some(map_.next_value::<PortMode>()? as i32);
                        }
                        GeneratedField::Vlan => {
                            if vlan__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vlan"));
                            }
                            vlan__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Vlans => {
                            if vlans__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vlans"));
                            }
                            vlans__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::NativeVlan => {
                            if native_vlan__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nativeVlan"));
                            }
                            native_vlan__ = 
                                map_.next_value::<::std::option::Option<::pbjson::private::NumberDeserialize<_>>>()?.map(|x| x.0)
                            ;
                        }
                        GeneratedField::Mtu => {
                            if mtu__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mtu"));
                            }
                            mtu__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AdminDown => {
                            if admin_down__.is_some() {
                                return Err(serde::de::Error::duplicate_field("adminDown"));
                            }
                            admin_down__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Port {
                    name: name__.unwrap_or_default(),
                    mode: mode__.unwrap_or_default(),
                    vlan: vlan__.unwrap_or_default(),
                    vlans: vlans__.unwrap_or_default(),
                    native_vlan: native_vlan__,
                    mtu: mtu__.unwrap_or_default(),
                    admin_down: admin_down__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.Port", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PortMode {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "PORT_MODE_UNSPECIFIED",
            Self::Access => "PORT_MODE_ACCESS",
            Self::Trunk => "PORT_MODE_TRUNK",
            Self::Uplink => "PORT_MODE_UPLINK",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for PortMode {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "PORT_MODE_UNSPECIFIED",
            "PORT_MODE_ACCESS",
            "PORT_MODE_TRUNK",
            "PORT_MODE_UPLINK",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = PortMode;

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
                    "PORT_MODE_UNSPECIFIED" => Ok(PortMode::Unspecified),
                    "PORT_MODE_ACCESS" => Ok(PortMode::Access),
                    "PORT_MODE_TRUNK" => Ok(PortMode::Trunk),
                    "PORT_MODE_UPLINK" => Ok(PortMode::Uplink),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for PortResource {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.PortResource", len)?;
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
impl<'de> serde::Deserialize<'de> for PortResource {
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
            type Value = PortResource;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.PortResource")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PortResource, V::Error>
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
                Ok(PortResource {
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
        deserializer.deserialize_struct("dpu.switch.v1.PortResource", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PortSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.mode != 0 {
            len += 1;
        }
        if !self.bridge.is_empty() {
            len += 1;
        }
        if !self.trunk_bridges.is_empty() {
            len += 1;
        }
        if !self.native_bridge.is_empty() {
            len += 1;
        }
        if self.mtu != 0 {
            len += 1;
        }
        if self.admin_down {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.PortSpec", len)?;
        if self.mode != 0 {
            let v = crate::EnumValue::<PortMode>::of(self.mode);
            struct_ser.serialize_field("mode", &v)?;
        }
        if !self.bridge.is_empty() {
            struct_ser.serialize_field("bridge", &self.bridge)?;
        }
        if !self.trunk_bridges.is_empty() {
            struct_ser.serialize_field("trunkBridges", &self.trunk_bridges)?;
        }
        if !self.native_bridge.is_empty() {
            struct_ser.serialize_field("nativeBridge", &self.native_bridge)?;
        }
        if self.mtu != 0 {
            struct_ser.serialize_field("mtu", &self.mtu)?;
        }
        if self.admin_down {
            struct_ser.serialize_field("adminDown", &self.admin_down)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for PortSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "mode",
            "bridge",
            "trunk_bridges",
            "trunkBridges",
            "native_bridge",
            "nativeBridge",
            "mtu",
            "admin_down",
            "adminDown",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Mode,
            Bridge,
            TrunkBridges,
            NativeBridge,
            Mtu,
            AdminDown,
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
                            "mode" => Ok(GeneratedField::Mode),
                            "bridge" => Ok(GeneratedField::Bridge),
                            "trunkBridges" | "trunk_bridges" => Ok(GeneratedField::TrunkBridges),
                            "nativeBridge" | "native_bridge" => Ok(GeneratedField::NativeBridge),
                            "mtu" => Ok(GeneratedField::Mtu),
                            "adminDown" | "admin_down" => Ok(GeneratedField::AdminDown),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = PortSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.PortSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PortSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut mode__ = None;
                let mut bridge__ = None;
                let mut trunk_bridges__ = None;
                let mut native_bridge__ = None;
                let mut mtu__ = None;
                let mut admin_down__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Mode => {
                            if mode__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mode"));
                            }
                            mode__ = Some(map_.next_value::<PortMode>()? as i32);
                        }
                        GeneratedField::Bridge => {
                            if bridge__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bridge"));
                            }
                            bridge__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TrunkBridges => {
                            if trunk_bridges__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trunkBridges"));
                            }
                            trunk_bridges__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NativeBridge => {
                            if native_bridge__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nativeBridge"));
                            }
                            native_bridge__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mtu => {
                            if mtu__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mtu"));
                            }
                            mtu__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AdminDown => {
                            if admin_down__.is_some() {
                                return Err(serde::de::Error::duplicate_field("adminDown"));
                            }
                            admin_down__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(PortSpec {
                    mode: mode__.unwrap_or_default(),
                    bridge: bridge__.unwrap_or_default(),
                    trunk_bridges: trunk_bridges__.unwrap_or_default(),
                    native_bridge: native_bridge__.unwrap_or_default(),
                    mtu: mtu__.unwrap_or_default(),
                    admin_down: admin_down__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.PortSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PortStatus {
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
        if !self.mode.is_empty() {
            len += 1;
        }
        if self.mtu != 0 {
            len += 1;
        }
        if self.admin_up {
            len += 1;
        }
        if self.rx_packets != 0 {
            len += 1;
        }
        if self.rx_bytes != 0 {
            len += 1;
        }
        if self.tx_packets != 0 {
            len += 1;
        }
        if self.tx_bytes != 0 {
            len += 1;
        }
        if self.drops_total != 0 {
            len += 1;
        }
        if !self.drops.is_empty() {
            len += 1;
        }
        if self.tx_dropped != 0 {
            len += 1;
        }
        if !self.tx_drops.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.PortStatus", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.mode.is_empty() {
            struct_ser.serialize_field("mode", &self.mode)?;
        }
        if self.mtu != 0 {
            struct_ser.serialize_field("mtu", &self.mtu)?;
        }
        if self.admin_up {
            struct_ser.serialize_field("adminUp", &self.admin_up)?;
        }
        if self.rx_packets != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("rxPackets", ToString::to_string(&self.rx_packets).as_str())?;
        }
        if self.rx_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("rxBytes", ToString::to_string(&self.rx_bytes).as_str())?;
        }
        if self.tx_packets != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("txPackets", ToString::to_string(&self.tx_packets).as_str())?;
        }
        if self.tx_bytes != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("txBytes", ToString::to_string(&self.tx_bytes).as_str())?;
        }
        if self.drops_total != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("dropsTotal", ToString::to_string(&self.drops_total).as_str())?;
        }
        if !self.drops.is_empty() {
            let v: std::collections::HashMap<_, _> = self.drops.iter()
                .map(|(k, v)| (k, v.to_string())).collect();
            struct_ser.serialize_field("drops", &v)?;
        }
        if self.tx_dropped != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("txDropped", ToString::to_string(&self.tx_dropped).as_str())?;
        }
        if !self.tx_drops.is_empty() {
            let v: std::collections::HashMap<_, _> = self.tx_drops.iter()
                .map(|(k, v)| (k, v.to_string())).collect();
            struct_ser.serialize_field("txDrops", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for PortStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "mode",
            "mtu",
            "admin_up",
            "adminUp",
            "rx_packets",
            "rxPackets",
            "rx_bytes",
            "rxBytes",
            "tx_packets",
            "txPackets",
            "tx_bytes",
            "txBytes",
            "drops_total",
            "dropsTotal",
            "drops",
            "tx_dropped",
            "txDropped",
            "tx_drops",
            "txDrops",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Mode,
            Mtu,
            AdminUp,
            RxPackets,
            RxBytes,
            TxPackets,
            TxBytes,
            DropsTotal,
            Drops,
            TxDropped,
            TxDrops,
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
                            "mode" => Ok(GeneratedField::Mode),
                            "mtu" => Ok(GeneratedField::Mtu),
                            "adminUp" | "admin_up" => Ok(GeneratedField::AdminUp),
                            "rxPackets" | "rx_packets" => Ok(GeneratedField::RxPackets),
                            "rxBytes" | "rx_bytes" => Ok(GeneratedField::RxBytes),
                            "txPackets" | "tx_packets" => Ok(GeneratedField::TxPackets),
                            "txBytes" | "tx_bytes" => Ok(GeneratedField::TxBytes),
                            "dropsTotal" | "drops_total" => Ok(GeneratedField::DropsTotal),
                            "drops" => Ok(GeneratedField::Drops),
                            "txDropped" | "tx_dropped" => Ok(GeneratedField::TxDropped),
                            "txDrops" | "tx_drops" => Ok(GeneratedField::TxDrops),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = PortStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.PortStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PortStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut mode__ = None;
                let mut mtu__ = None;
                let mut admin_up__ = None;
                let mut rx_packets__ = None;
                let mut rx_bytes__ = None;
                let mut tx_packets__ = None;
                let mut tx_bytes__ = None;
                let mut drops_total__ = None;
                let mut drops__ = None;
                let mut tx_dropped__ = None;
                let mut tx_drops__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mode => {
                            if mode__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mode"));
                            }
                            mode__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mtu => {
                            if mtu__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mtu"));
                            }
                            mtu__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AdminUp => {
                            if admin_up__.is_some() {
                                return Err(serde::de::Error::duplicate_field("adminUp"));
                            }
                            admin_up__ = Some(map_.next_value()?);
                        }
                        GeneratedField::RxPackets => {
                            if rx_packets__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rxPackets"));
                            }
                            rx_packets__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::RxBytes => {
                            if rx_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rxBytes"));
                            }
                            rx_bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::TxPackets => {
                            if tx_packets__.is_some() {
                                return Err(serde::de::Error::duplicate_field("txPackets"));
                            }
                            tx_packets__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::TxBytes => {
                            if tx_bytes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("txBytes"));
                            }
                            tx_bytes__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::DropsTotal => {
                            if drops_total__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dropsTotal"));
                            }
                            drops_total__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Drops => {
                            if drops__.is_some() {
                                return Err(serde::de::Error::duplicate_field("drops"));
                            }
                            drops__ = Some(
                                map_.next_value::<std::collections::HashMap<_, ::pbjson::private::NumberDeserialize<u64>>>()?
                                    .into_iter().map(|(k,v)| (k, v.0)).collect()
                            );
                        }
                        GeneratedField::TxDropped => {
                            if tx_dropped__.is_some() {
                                return Err(serde::de::Error::duplicate_field("txDropped"));
                            }
                            tx_dropped__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::TxDrops => {
                            if tx_drops__.is_some() {
                                return Err(serde::de::Error::duplicate_field("txDrops"));
                            }
                            tx_drops__ = Some(
                                map_.next_value::<std::collections::HashMap<_, ::pbjson::private::NumberDeserialize<u64>>>()?
                                    .into_iter().map(|(k,v)| (k, v.0)).collect()
                            );
                        }
                    }
                }
                Ok(PortStatus {
                    name: name__.unwrap_or_default(),
                    mode: mode__.unwrap_or_default(),
                    mtu: mtu__.unwrap_or_default(),
                    admin_up: admin_up__.unwrap_or_default(),
                    rx_packets: rx_packets__.unwrap_or_default(),
                    rx_bytes: rx_bytes__.unwrap_or_default(),
                    tx_packets: tx_packets__.unwrap_or_default(),
                    tx_bytes: tx_bytes__.unwrap_or_default(),
                    drops_total: drops_total__.unwrap_or_default(),
                    drops: drops__.unwrap_or_default(),
                    tx_dropped: tx_dropped__.unwrap_or_default(),
                    tx_drops: tx_drops__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.PortStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RemoteVtep {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.ip.is_empty() {
            len += 1;
        }
        if !self.vnis.is_empty() {
            len += 1;
        }
        if self.encap != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.RemoteVtep", len)?;
        if !self.ip.is_empty() {
            struct_ser.serialize_field("ip", &self.ip)?;
        }
        if !self.vnis.is_empty() {
            struct_ser.serialize_field("vnis", &self.vnis)?;
        }
        if self.encap != 0 {
            let v = crate::EnumValue::<Encap>::of(self.encap);
            struct_ser.serialize_field("encap", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RemoteVtep {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "ip",
            "vnis",
            "encap",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Ip,
            Vnis,
            Encap,
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
                            "ip" => Ok(GeneratedField::Ip),
                            "vnis" => Ok(GeneratedField::Vnis),
                            "encap" => Ok(GeneratedField::Encap),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RemoteVtep;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.RemoteVtep")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RemoteVtep, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut ip__ = None;
                let mut vnis__ = None;
                let mut encap__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Ip => {
                            if ip__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ip"));
                            }
                            ip__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Vnis => {
                            if vnis__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vnis"));
                            }
                            vnis__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::Encap => {
                            if encap__.is_some() {
                                return Err(serde::de::Error::duplicate_field("encap"));
                            }
                            encap__ = Some(map_.next_value::<Encap>()? as i32);
                        }
                    }
                }
                Ok(RemoteVtep {
                    ip: ip__.unwrap_or_default(),
                    vnis: vnis__.unwrap_or_default(),
                    encap: encap__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.RemoteVtep", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Route {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.prefix.is_empty() {
            len += 1;
        }
        if !self.next_hop.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.Route", len)?;
        if !self.prefix.is_empty() {
            struct_ser.serialize_field("prefix", &self.prefix)?;
        }
        if !self.next_hop.is_empty() {
            struct_ser.serialize_field("nextHop", &self.next_hop)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Route {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "prefix",
            "next_hop",
            "nextHop",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Prefix,
            NextHop,
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
                            "prefix" => Ok(GeneratedField::Prefix),
                            "nextHop" | "next_hop" => Ok(GeneratedField::NextHop),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Route;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.Route")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Route, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut prefix__ = None;
                let mut next_hop__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Prefix => {
                            if prefix__.is_some() {
                                return Err(serde::de::Error::duplicate_field("prefix"));
                            }
                            prefix__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextHop => {
                            if next_hop__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextHop"));
                            }
                            next_hop__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Route {
                    prefix: prefix__.unwrap_or_default(),
                    next_hop: next_hop__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.Route", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RouteResource {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.RouteResource", len)?;
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
impl<'de> serde::Deserialize<'de> for RouteResource {
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
            type Value = RouteResource;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.RouteResource")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RouteResource, V::Error>
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
                Ok(RouteResource {
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
        deserializer.deserialize_struct("dpu.switch.v1.RouteResource", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RouteStatus {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.vrf.is_empty() {
            len += 1;
        }
        if !self.prefix.is_empty() {
            len += 1;
        }
        if !self.via.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.RouteStatus", len)?;
        if !self.vrf.is_empty() {
            struct_ser.serialize_field("vrf", &self.vrf)?;
        }
        if !self.prefix.is_empty() {
            struct_ser.serialize_field("prefix", &self.prefix)?;
        }
        if !self.via.is_empty() {
            struct_ser.serialize_field("via", &self.via)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RouteStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "vrf",
            "prefix",
            "via",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Vrf,
            Prefix,
            Via,
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
                            "vrf" => Ok(GeneratedField::Vrf),
                            "prefix" => Ok(GeneratedField::Prefix),
                            "via" => Ok(GeneratedField::Via),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RouteStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.RouteStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RouteStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut vrf__ = None;
                let mut prefix__ = None;
                let mut via__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Vrf => {
                            if vrf__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vrf"));
                            }
                            vrf__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Prefix => {
                            if prefix__.is_some() {
                                return Err(serde::de::Error::duplicate_field("prefix"));
                            }
                            prefix__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Via => {
                            if via__.is_some() {
                                return Err(serde::de::Error::duplicate_field("via"));
                            }
                            via__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(RouteStatus {
                    vrf: vrf__.unwrap_or_default(),
                    prefix: prefix__.unwrap_or_default(),
                    via: via__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.RouteStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for StaticMac {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.bridge.is_empty() {
            len += 1;
        }
        if !self.mac.is_empty() {
            len += 1;
        }
        if !self.port.is_empty() {
            len += 1;
        }
        if !self.vtep.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.StaticMac", len)?;
        if !self.bridge.is_empty() {
            struct_ser.serialize_field("bridge", &self.bridge)?;
        }
        if !self.mac.is_empty() {
            struct_ser.serialize_field("mac", &self.mac)?;
        }
        if !self.port.is_empty() {
            struct_ser.serialize_field("port", &self.port)?;
        }
        if !self.vtep.is_empty() {
            struct_ser.serialize_field("vtep", &self.vtep)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for StaticMac {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bridge",
            "mac",
            "port",
            "vtep",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Bridge,
            Mac,
            Port,
            Vtep,
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
                            "bridge" => Ok(GeneratedField::Bridge),
                            "mac" => Ok(GeneratedField::Mac),
                            "port" => Ok(GeneratedField::Port),
                            "vtep" => Ok(GeneratedField::Vtep),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = StaticMac;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.StaticMac")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<StaticMac, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bridge__ = None;
                let mut mac__ = None;
                let mut port__ = None;
                let mut vtep__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Bridge => {
                            if bridge__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bridge"));
                            }
                            bridge__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mac => {
                            if mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mac"));
                            }
                            mac__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Vtep => {
                            if vtep__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vtep"));
                            }
                            vtep__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(StaticMac {
                    bridge: bridge__.unwrap_or_default(),
                    mac: mac__.unwrap_or_default(),
                    port: port__.unwrap_or_default(),
                    vtep: vtep__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.StaticMac", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for StaticMacResource {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.StaticMacResource", len)?;
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
impl<'de> serde::Deserialize<'de> for StaticMacResource {
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
            type Value = StaticMacResource;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.StaticMacResource")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<StaticMacResource, V::Error>
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
                Ok(StaticMacResource {
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
        deserializer.deserialize_struct("dpu.switch.v1.StaticMacResource", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for StaticMacSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.mac.is_empty() {
            len += 1;
        }
        if !self.port.is_empty() {
            len += 1;
        }
        if !self.remote_vtep.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.StaticMacSpec", len)?;
        if !self.mac.is_empty() {
            struct_ser.serialize_field("mac", &self.mac)?;
        }
        if !self.port.is_empty() {
            struct_ser.serialize_field("port", &self.port)?;
        }
        if !self.remote_vtep.is_empty() {
            struct_ser.serialize_field("remoteVtep", &self.remote_vtep)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for StaticMacSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "mac",
            "port",
            "remote_vtep",
            "remoteVtep",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Mac,
            Port,
            RemoteVtep,
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
                            "mac" => Ok(GeneratedField::Mac),
                            "port" => Ok(GeneratedField::Port),
                            "remoteVtep" | "remote_vtep" => Ok(GeneratedField::RemoteVtep),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = StaticMacSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.StaticMacSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<StaticMacSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut mac__ = None;
                let mut port__ = None;
                let mut remote_vtep__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Mac => {
                            if mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mac"));
                            }
                            mac__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = Some(map_.next_value()?);
                        }
                        GeneratedField::RemoteVtep => {
                            if remote_vtep__.is_some() {
                                return Err(serde::de::Error::duplicate_field("remoteVtep"));
                            }
                            remote_vtep__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(StaticMacSpec {
                    mac: mac__.unwrap_or_default(),
                    port: port__.unwrap_or_default(),
                    remote_vtep: remote_vtep__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.StaticMacSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Svi {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.vrf.is_empty() {
            len += 1;
        }
        if !self.address.is_empty() {
            len += 1;
        }
        if !self.mac.is_empty() {
            len += 1;
        }
        if !self.address6.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.Svi", len)?;
        if !self.vrf.is_empty() {
            struct_ser.serialize_field("vrf", &self.vrf)?;
        }
        if !self.address.is_empty() {
            struct_ser.serialize_field("address", &self.address)?;
        }
        if !self.mac.is_empty() {
            struct_ser.serialize_field("mac", &self.mac)?;
        }
        if !self.address6.is_empty() {
            struct_ser.serialize_field("address6", &self.address6)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Svi {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "vrf",
            "address",
            "mac",
            "address6",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Vrf,
            Address,
            Mac,
            Address6,
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
                            "vrf" => Ok(GeneratedField::Vrf),
                            "address" => Ok(GeneratedField::Address),
                            "mac" => Ok(GeneratedField::Mac),
                            "address6" => Ok(GeneratedField::Address6),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Svi;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.Svi")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Svi, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut vrf__ = None;
                let mut address__ = None;
                let mut mac__ = None;
                let mut address6__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Vrf => {
                            if vrf__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vrf"));
                            }
                            vrf__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Address => {
                            if address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("address"));
                            }
                            address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mac => {
                            if mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mac"));
                            }
                            mac__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Address6 => {
                            if address6__.is_some() {
                                return Err(serde::de::Error::duplicate_field("address6"));
                            }
                            address6__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Svi {
                    vrf: vrf__.unwrap_or_default(),
                    address: address__.unwrap_or_default(),
                    mac: mac__.unwrap_or_default(),
                    address6: address6__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.Svi", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SviResource {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.SviResource", len)?;
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
impl<'de> serde::Deserialize<'de> for SviResource {
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
            type Value = SviResource;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.SviResource")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SviResource, V::Error>
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
                Ok(SviResource {
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
        deserializer.deserialize_struct("dpu.switch.v1.SviResource", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SviSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.bridge.is_empty() {
            len += 1;
        }
        if !self.vrf.is_empty() {
            len += 1;
        }
        if !self.address.is_empty() {
            len += 1;
        }
        if !self.mac.is_empty() {
            len += 1;
        }
        if !self.address6.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.SviSpec", len)?;
        if !self.bridge.is_empty() {
            struct_ser.serialize_field("bridge", &self.bridge)?;
        }
        if !self.vrf.is_empty() {
            struct_ser.serialize_field("vrf", &self.vrf)?;
        }
        if !self.address.is_empty() {
            struct_ser.serialize_field("address", &self.address)?;
        }
        if !self.mac.is_empty() {
            struct_ser.serialize_field("mac", &self.mac)?;
        }
        if !self.address6.is_empty() {
            struct_ser.serialize_field("address6", &self.address6)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SviSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bridge",
            "vrf",
            "address",
            "mac",
            "address6",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Bridge,
            Vrf,
            Address,
            Mac,
            Address6,
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
                            "bridge" => Ok(GeneratedField::Bridge),
                            "vrf" => Ok(GeneratedField::Vrf),
                            "address" => Ok(GeneratedField::Address),
                            "mac" => Ok(GeneratedField::Mac),
                            "address6" => Ok(GeneratedField::Address6),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SviSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.SviSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SviSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bridge__ = None;
                let mut vrf__ = None;
                let mut address__ = None;
                let mut mac__ = None;
                let mut address6__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Bridge => {
                            if bridge__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bridge"));
                            }
                            bridge__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Vrf => {
                            if vrf__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vrf"));
                            }
                            vrf__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Address => {
                            if address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("address"));
                            }
                            address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Mac => {
                            if mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mac"));
                            }
                            mac__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Address6 => {
                            if address6__.is_some() {
                                return Err(serde::de::Error::duplicate_field("address6"));
                            }
                            address6__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SviSpec {
                    bridge: bridge__.unwrap_or_default(),
                    vrf: vrf__.unwrap_or_default(),
                    address: address__.unwrap_or_default(),
                    mac: mac__.unwrap_or_default(),
                    address6: address6__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.SviSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SwitchConfig {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.ports.is_empty() {
            len += 1;
        }
        if !self.bridges.is_empty() {
            len += 1;
        }
        if self.vtep.is_some() {
            len += 1;
        }
        if !self.static_macs.is_empty() {
            len += 1;
        }
        if !self.vrfs.is_empty() {
            len += 1;
        }
        if self.flow_cache_size != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.SwitchConfig", len)?;
        if !self.ports.is_empty() {
            struct_ser.serialize_field("ports", &self.ports)?;
        }
        if !self.bridges.is_empty() {
            struct_ser.serialize_field("bridges", &self.bridges)?;
        }
        if let Some(v) = self.vtep.as_ref() {
            struct_ser.serialize_field("vtep", v)?;
        }
        if !self.static_macs.is_empty() {
            struct_ser.serialize_field("staticMacs", &self.static_macs)?;
        }
        if !self.vrfs.is_empty() {
            struct_ser.serialize_field("vrfs", &self.vrfs)?;
        }
        if self.flow_cache_size != 0 {
            struct_ser.serialize_field("flowCacheSize", &self.flow_cache_size)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SwitchConfig {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "ports",
            "bridges",
            "vtep",
            "static_macs",
            "staticMacs",
            "vrfs",
            "flow_cache_size",
            "flowCacheSize",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Ports,
            Bridges,
            Vtep,
            StaticMacs,
            Vrfs,
            FlowCacheSize,
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
                            "ports" => Ok(GeneratedField::Ports),
                            "bridges" => Ok(GeneratedField::Bridges),
                            "vtep" => Ok(GeneratedField::Vtep),
                            "staticMacs" | "static_macs" => Ok(GeneratedField::StaticMacs),
                            "vrfs" => Ok(GeneratedField::Vrfs),
                            "flowCacheSize" | "flow_cache_size" => Ok(GeneratedField::FlowCacheSize),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SwitchConfig;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.SwitchConfig")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SwitchConfig, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut ports__ = None;
                let mut bridges__ = None;
                let mut vtep__ = None;
                let mut static_macs__ = None;
                let mut vrfs__ = None;
                let mut flow_cache_size__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Ports => {
                            if ports__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ports"));
                            }
                            ports__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Bridges => {
                            if bridges__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bridges"));
                            }
                            bridges__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Vtep => {
                            if vtep__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vtep"));
                            }
                            vtep__ = map_.next_value()?;
                        }
                        GeneratedField::StaticMacs => {
                            if static_macs__.is_some() {
                                return Err(serde::de::Error::duplicate_field("staticMacs"));
                            }
                            static_macs__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Vrfs => {
                            if vrfs__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vrfs"));
                            }
                            vrfs__ = Some(map_.next_value()?);
                        }
                        GeneratedField::FlowCacheSize => {
                            if flow_cache_size__.is_some() {
                                return Err(serde::de::Error::duplicate_field("flowCacheSize"));
                            }
                            flow_cache_size__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(SwitchConfig {
                    ports: ports__.unwrap_or_default(),
                    bridges: bridges__.unwrap_or_default(),
                    vtep: vtep__,
                    static_macs: static_macs__.unwrap_or_default(),
                    vrfs: vrfs__.unwrap_or_default(),
                    flow_cache_size: flow_cache_size__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.SwitchConfig", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SwitchStatus {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.config_epoch != 0 {
            len += 1;
        }
        if !self.ports.is_empty() {
            len += 1;
        }
        if !self.bridges.is_empty() {
            len += 1;
        }
        if !self.vteps.is_empty() {
            len += 1;
        }
        if self.flow_cache.is_some() {
            len += 1;
        }
        if !self.counters.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.SwitchStatus", len)?;
        if self.config_epoch != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("configEpoch", ToString::to_string(&self.config_epoch).as_str())?;
        }
        if !self.ports.is_empty() {
            struct_ser.serialize_field("ports", &self.ports)?;
        }
        if !self.bridges.is_empty() {
            struct_ser.serialize_field("bridges", &self.bridges)?;
        }
        if !self.vteps.is_empty() {
            struct_ser.serialize_field("vteps", &self.vteps)?;
        }
        if let Some(v) = self.flow_cache.as_ref() {
            struct_ser.serialize_field("flowCache", v)?;
        }
        if !self.counters.is_empty() {
            let v: std::collections::HashMap<_, _> = self.counters.iter()
                .map(|(k, v)| (k, v.to_string())).collect();
            struct_ser.serialize_field("counters", &v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SwitchStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "config_epoch",
            "configEpoch",
            "ports",
            "bridges",
            "vteps",
            "flow_cache",
            "flowCache",
            "counters",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ConfigEpoch,
            Ports,
            Bridges,
            Vteps,
            FlowCache,
            Counters,
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
                            "configEpoch" | "config_epoch" => Ok(GeneratedField::ConfigEpoch),
                            "ports" => Ok(GeneratedField::Ports),
                            "bridges" => Ok(GeneratedField::Bridges),
                            "vteps" => Ok(GeneratedField::Vteps),
                            "flowCache" | "flow_cache" => Ok(GeneratedField::FlowCache),
                            "counters" => Ok(GeneratedField::Counters),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SwitchStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.SwitchStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SwitchStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut config_epoch__ = None;
                let mut ports__ = None;
                let mut bridges__ = None;
                let mut vteps__ = None;
                let mut flow_cache__ = None;
                let mut counters__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ConfigEpoch => {
                            if config_epoch__.is_some() {
                                return Err(serde::de::Error::duplicate_field("configEpoch"));
                            }
                            config_epoch__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Ports => {
                            if ports__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ports"));
                            }
                            ports__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Bridges => {
                            if bridges__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bridges"));
                            }
                            bridges__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Vteps => {
                            if vteps__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vteps"));
                            }
                            vteps__ = Some(map_.next_value()?);
                        }
                        GeneratedField::FlowCache => {
                            if flow_cache__.is_some() {
                                return Err(serde::de::Error::duplicate_field("flowCache"));
                            }
                            flow_cache__ = map_.next_value()?;
                        }
                        GeneratedField::Counters => {
                            if counters__.is_some() {
                                return Err(serde::de::Error::duplicate_field("counters"));
                            }
                            counters__ = Some(
                                map_.next_value::<std::collections::HashMap<_, ::pbjson::private::NumberDeserialize<u64>>>()?
                                    .into_iter().map(|(k,v)| (k, v.0)).collect()
                            );
                        }
                    }
                }
                Ok(SwitchStatus {
                    config_epoch: config_epoch__.unwrap_or_default(),
                    ports: ports__.unwrap_or_default(),
                    bridges: bridges__.unwrap_or_default(),
                    vteps: vteps__.unwrap_or_default(),
                    flow_cache: flow_cache__,
                    counters: counters__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.SwitchStatus", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SyncConfigRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.config.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.SyncConfigRequest", len)?;
        if let Some(v) = self.config.as_ref() {
            struct_ser.serialize_field("config", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SyncConfigRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "config",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Config,
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
                            "config" => Ok(GeneratedField::Config),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SyncConfigRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.SyncConfigRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SyncConfigRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut config__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Config => {
                            if config__.is_some() {
                                return Err(serde::de::Error::duplicate_field("config"));
                            }
                            config__ = map_.next_value()?;
                        }
                    }
                }
                Ok(SyncConfigRequest {
                    config: config__,
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.SyncConfigRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SyncConfigResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.config_epoch != 0 {
            len += 1;
        }
        if !self.vtep_waiting.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.SyncConfigResponse", len)?;
        if self.config_epoch != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("configEpoch", ToString::to_string(&self.config_epoch).as_str())?;
        }
        if !self.vtep_waiting.is_empty() {
            struct_ser.serialize_field("vtepWaiting", &self.vtep_waiting)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SyncConfigResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "config_epoch",
            "configEpoch",
            "vtep_waiting",
            "vtepWaiting",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ConfigEpoch,
            VtepWaiting,
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
                            "configEpoch" | "config_epoch" => Ok(GeneratedField::ConfigEpoch),
                            "vtepWaiting" | "vtep_waiting" => Ok(GeneratedField::VtepWaiting),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SyncConfigResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.SyncConfigResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SyncConfigResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut config_epoch__ = None;
                let mut vtep_waiting__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ConfigEpoch => {
                            if config_epoch__.is_some() {
                                return Err(serde::de::Error::duplicate_field("configEpoch"));
                            }
                            config_epoch__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::VtepWaiting => {
                            if vtep_waiting__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vtepWaiting"));
                            }
                            vtep_waiting__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(SyncConfigResponse {
                    config_epoch: config_epoch__.unwrap_or_default(),
                    vtep_waiting: vtep_waiting__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.SyncConfigResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateBridgeRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.bridge.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.UpdateBridgeRequest", len)?;
        if let Some(v) = self.bridge.as_ref() {
            struct_ser.serialize_field("bridge", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdateBridgeRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "bridge",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Bridge,
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
                            "bridge" => Ok(GeneratedField::Bridge),
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
            type Value = UpdateBridgeRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.UpdateBridgeRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateBridgeRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut bridge__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Bridge => {
                            if bridge__.is_some() {
                                return Err(serde::de::Error::duplicate_field("bridge"));
                            }
                            bridge__ = map_.next_value()?;
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
                Ok(UpdateBridgeRequest {
                    bridge: bridge__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.UpdateBridgeRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdatePortRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.port.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.UpdatePortRequest", len)?;
        if let Some(v) = self.port.as_ref() {
            struct_ser.serialize_field("port", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdatePortRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "port",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Port,
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
                            "port" => Ok(GeneratedField::Port),
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
            type Value = UpdatePortRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.UpdatePortRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdatePortRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut port__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Port => {
                            if port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("port"));
                            }
                            port__ = map_.next_value()?;
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
                Ok(UpdatePortRequest {
                    port: port__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.UpdatePortRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateRouteRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.route.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.UpdateRouteRequest", len)?;
        if let Some(v) = self.route.as_ref() {
            struct_ser.serialize_field("route", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdateRouteRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "route",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Route,
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
                            "route" => Ok(GeneratedField::Route),
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
            type Value = UpdateRouteRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.UpdateRouteRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateRouteRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut route__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Route => {
                            if route__.is_some() {
                                return Err(serde::de::Error::duplicate_field("route"));
                            }
                            route__ = map_.next_value()?;
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
                Ok(UpdateRouteRequest {
                    route: route__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.UpdateRouteRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateStaticMacRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.static_mac.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.UpdateStaticMacRequest", len)?;
        if let Some(v) = self.static_mac.as_ref() {
            struct_ser.serialize_field("staticMac", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdateStaticMacRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "static_mac",
            "staticMac",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            StaticMac,
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
                            "staticMac" | "static_mac" => Ok(GeneratedField::StaticMac),
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
            type Value = UpdateStaticMacRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.UpdateStaticMacRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateStaticMacRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut static_mac__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::StaticMac => {
                            if static_mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("staticMac"));
                            }
                            static_mac__ = map_.next_value()?;
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
                Ok(UpdateStaticMacRequest {
                    static_mac: static_mac__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.UpdateStaticMacRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateSviRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.svi.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.UpdateSviRequest", len)?;
        if let Some(v) = self.svi.as_ref() {
            struct_ser.serialize_field("svi", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdateSviRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "svi",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Svi,
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
                            "svi" => Ok(GeneratedField::Svi),
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
            type Value = UpdateSviRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.UpdateSviRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateSviRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut svi__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Svi => {
                            if svi__.is_some() {
                                return Err(serde::de::Error::duplicate_field("svi"));
                            }
                            svi__ = map_.next_value()?;
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
                Ok(UpdateSviRequest {
                    svi: svi__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.UpdateSviRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateVrfRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.vrf.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.UpdateVrfRequest", len)?;
        if let Some(v) = self.vrf.as_ref() {
            struct_ser.serialize_field("vrf", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdateVrfRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "vrf",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Vrf,
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
                            "vrf" => Ok(GeneratedField::Vrf),
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
            type Value = UpdateVrfRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.UpdateVrfRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateVrfRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut vrf__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Vrf => {
                            if vrf__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vrf"));
                            }
                            vrf__ = map_.next_value()?;
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
                Ok(UpdateVrfRequest {
                    vrf: vrf__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.UpdateVrfRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UpdateVtepRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.vtep.is_some() {
            len += 1;
        }
        if self.update_mask.is_some() {
            len += 1;
        }
        if self.allow_missing {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.UpdateVtepRequest", len)?;
        if let Some(v) = self.vtep.as_ref() {
            struct_ser.serialize_field("vtep", v)?;
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
impl<'de> serde::Deserialize<'de> for UpdateVtepRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "vtep",
            "update_mask",
            "updateMask",
            "allow_missing",
            "allowMissing",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Vtep,
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
                            "vtep" => Ok(GeneratedField::Vtep),
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
            type Value = UpdateVtepRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.UpdateVtepRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateVtepRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut vtep__ = None;
                let mut update_mask__ = None;
                let mut allow_missing__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Vtep => {
                            if vtep__.is_some() {
                                return Err(serde::de::Error::duplicate_field("vtep"));
                            }
                            vtep__ = map_.next_value()?;
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
                Ok(UpdateVtepRequest {
                    vtep: vtep__,
                    update_mask: update_mask__,
                    allow_missing: allow_missing__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.UpdateVtepRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Vrf {
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
        if !self.routes.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.Vrf", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.routes.is_empty() {
            struct_ser.serialize_field("routes", &self.routes)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Vrf {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "routes",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Routes,
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
                            "routes" => Ok(GeneratedField::Routes),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Vrf;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.Vrf")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Vrf, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut routes__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Routes => {
                            if routes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("routes"));
                            }
                            routes__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Vrf {
                    name: name__.unwrap_or_default(),
                    routes: routes__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.Vrf", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for VrfResource {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.VrfResource", len)?;
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
impl<'de> serde::Deserialize<'de> for VrfResource {
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
            type Value = VrfResource;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.VrfResource")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<VrfResource, V::Error>
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
                Ok(VrfResource {
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
        deserializer.deserialize_struct("dpu.switch.v1.VrfResource", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for VrfSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.description.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.VrfSpec", len)?;
        if !self.description.is_empty() {
            struct_ser.serialize_field("description", &self.description)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for VrfSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "description",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Description,
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
                            "description" => Ok(GeneratedField::Description),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = VrfSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.VrfSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<VrfSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut description__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Description => {
                            if description__.is_some() {
                                return Err(serde::de::Error::duplicate_field("description"));
                            }
                            description__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(VrfSpec {
                    description: description__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.VrfSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Vtep {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.uplink.is_empty() {
            len += 1;
        }
        if !self.local_ip.is_empty() {
            len += 1;
        }
        if self.prefix_len != 0 {
            len += 1;
        }
        if !self.gateway.is_empty() {
            len += 1;
        }
        if !self.local_mac.is_empty() {
            len += 1;
        }
        if self.udp_checksum {
            len += 1;
        }
        if self.ttl != 0 {
            len += 1;
        }
        if !self.remotes.is_empty() {
            len += 1;
        }
        if self.no_learn_remotes {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.Vtep", len)?;
        if !self.uplink.is_empty() {
            struct_ser.serialize_field("uplink", &self.uplink)?;
        }
        if !self.local_ip.is_empty() {
            struct_ser.serialize_field("localIp", &self.local_ip)?;
        }
        if self.prefix_len != 0 {
            struct_ser.serialize_field("prefixLen", &self.prefix_len)?;
        }
        if !self.gateway.is_empty() {
            struct_ser.serialize_field("gateway", &self.gateway)?;
        }
        if !self.local_mac.is_empty() {
            struct_ser.serialize_field("localMac", &self.local_mac)?;
        }
        if self.udp_checksum {
            struct_ser.serialize_field("udpChecksum", &self.udp_checksum)?;
        }
        if self.ttl != 0 {
            struct_ser.serialize_field("ttl", &self.ttl)?;
        }
        if !self.remotes.is_empty() {
            struct_ser.serialize_field("remotes", &self.remotes)?;
        }
        if self.no_learn_remotes {
            struct_ser.serialize_field("noLearnRemotes", &self.no_learn_remotes)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Vtep {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "uplink",
            "local_ip",
            "localIp",
            "prefix_len",
            "prefixLen",
            "gateway",
            "local_mac",
            "localMac",
            "udp_checksum",
            "udpChecksum",
            "ttl",
            "remotes",
            "no_learn_remotes",
            "noLearnRemotes",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Uplink,
            LocalIp,
            PrefixLen,
            Gateway,
            LocalMac,
            UdpChecksum,
            Ttl,
            Remotes,
            NoLearnRemotes,
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
                            "uplink" => Ok(GeneratedField::Uplink),
                            "localIp" | "local_ip" => Ok(GeneratedField::LocalIp),
                            "prefixLen" | "prefix_len" => Ok(GeneratedField::PrefixLen),
                            "gateway" => Ok(GeneratedField::Gateway),
                            "localMac" | "local_mac" => Ok(GeneratedField::LocalMac),
                            "udpChecksum" | "udp_checksum" => Ok(GeneratedField::UdpChecksum),
                            "ttl" => Ok(GeneratedField::Ttl),
                            "remotes" => Ok(GeneratedField::Remotes),
                            "noLearnRemotes" | "no_learn_remotes" => Ok(GeneratedField::NoLearnRemotes),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Vtep;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.Vtep")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Vtep, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut uplink__ = None;
                let mut local_ip__ = None;
                let mut prefix_len__ = None;
                let mut gateway__ = None;
                let mut local_mac__ = None;
                let mut udp_checksum__ = None;
                let mut ttl__ = None;
                let mut remotes__ = None;
                let mut no_learn_remotes__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Uplink => {
                            if uplink__.is_some() {
                                return Err(serde::de::Error::duplicate_field("uplink"));
                            }
                            uplink__ = Some(map_.next_value()?);
                        }
                        GeneratedField::LocalIp => {
                            if local_ip__.is_some() {
                                return Err(serde::de::Error::duplicate_field("localIp"));
                            }
                            local_ip__ = Some(map_.next_value()?);
                        }
                        GeneratedField::PrefixLen => {
                            if prefix_len__.is_some() {
                                return Err(serde::de::Error::duplicate_field("prefixLen"));
                            }
                            prefix_len__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Gateway => {
                            if gateway__.is_some() {
                                return Err(serde::de::Error::duplicate_field("gateway"));
                            }
                            gateway__ = Some(map_.next_value()?);
                        }
                        GeneratedField::LocalMac => {
                            if local_mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("localMac"));
                            }
                            local_mac__ = Some(map_.next_value()?);
                        }
                        GeneratedField::UdpChecksum => {
                            if udp_checksum__.is_some() {
                                return Err(serde::de::Error::duplicate_field("udpChecksum"));
                            }
                            udp_checksum__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ttl => {
                            if ttl__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ttl"));
                            }
                            ttl__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Remotes => {
                            if remotes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("remotes"));
                            }
                            remotes__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NoLearnRemotes => {
                            if no_learn_remotes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("noLearnRemotes"));
                            }
                            no_learn_remotes__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Vtep {
                    uplink: uplink__.unwrap_or_default(),
                    local_ip: local_ip__.unwrap_or_default(),
                    prefix_len: prefix_len__.unwrap_or_default(),
                    gateway: gateway__.unwrap_or_default(),
                    local_mac: local_mac__.unwrap_or_default(),
                    udp_checksum: udp_checksum__.unwrap_or_default(),
                    ttl: ttl__.unwrap_or_default(),
                    remotes: remotes__.unwrap_or_default(),
                    no_learn_remotes: no_learn_remotes__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.Vtep", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for VtepResource {
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
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.VtepResource", len)?;
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
impl<'de> serde::Deserialize<'de> for VtepResource {
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
            type Value = VtepResource;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.VtepResource")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<VtepResource, V::Error>
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
                Ok(VtepResource {
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
        deserializer.deserialize_struct("dpu.switch.v1.VtepResource", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for VtepSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.uplink.is_empty() {
            len += 1;
        }
        if !self.local_ip.is_empty() {
            len += 1;
        }
        if self.prefix_len != 0 {
            len += 1;
        }
        if !self.gateway.is_empty() {
            len += 1;
        }
        if !self.local_mac.is_empty() {
            len += 1;
        }
        if self.udp_checksum {
            len += 1;
        }
        if self.ttl != 0 {
            len += 1;
        }
        if !self.remotes.is_empty() {
            len += 1;
        }
        if self.no_learn_remotes {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.VtepSpec", len)?;
        if !self.uplink.is_empty() {
            struct_ser.serialize_field("uplink", &self.uplink)?;
        }
        if !self.local_ip.is_empty() {
            struct_ser.serialize_field("localIp", &self.local_ip)?;
        }
        if self.prefix_len != 0 {
            struct_ser.serialize_field("prefixLen", &self.prefix_len)?;
        }
        if !self.gateway.is_empty() {
            struct_ser.serialize_field("gateway", &self.gateway)?;
        }
        if !self.local_mac.is_empty() {
            struct_ser.serialize_field("localMac", &self.local_mac)?;
        }
        if self.udp_checksum {
            struct_ser.serialize_field("udpChecksum", &self.udp_checksum)?;
        }
        if self.ttl != 0 {
            struct_ser.serialize_field("ttl", &self.ttl)?;
        }
        if !self.remotes.is_empty() {
            struct_ser.serialize_field("remotes", &self.remotes)?;
        }
        if self.no_learn_remotes {
            struct_ser.serialize_field("noLearnRemotes", &self.no_learn_remotes)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for VtepSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "uplink",
            "local_ip",
            "localIp",
            "prefix_len",
            "prefixLen",
            "gateway",
            "local_mac",
            "localMac",
            "udp_checksum",
            "udpChecksum",
            "ttl",
            "remotes",
            "no_learn_remotes",
            "noLearnRemotes",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Uplink,
            LocalIp,
            PrefixLen,
            Gateway,
            LocalMac,
            UdpChecksum,
            Ttl,
            Remotes,
            NoLearnRemotes,
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
                            "uplink" => Ok(GeneratedField::Uplink),
                            "localIp" | "local_ip" => Ok(GeneratedField::LocalIp),
                            "prefixLen" | "prefix_len" => Ok(GeneratedField::PrefixLen),
                            "gateway" => Ok(GeneratedField::Gateway),
                            "localMac" | "local_mac" => Ok(GeneratedField::LocalMac),
                            "udpChecksum" | "udp_checksum" => Ok(GeneratedField::UdpChecksum),
                            "ttl" => Ok(GeneratedField::Ttl),
                            "remotes" => Ok(GeneratedField::Remotes),
                            "noLearnRemotes" | "no_learn_remotes" => Ok(GeneratedField::NoLearnRemotes),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = VtepSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.VtepSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<VtepSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut uplink__ = None;
                let mut local_ip__ = None;
                let mut prefix_len__ = None;
                let mut gateway__ = None;
                let mut local_mac__ = None;
                let mut udp_checksum__ = None;
                let mut ttl__ = None;
                let mut remotes__ = None;
                let mut no_learn_remotes__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Uplink => {
                            if uplink__.is_some() {
                                return Err(serde::de::Error::duplicate_field("uplink"));
                            }
                            uplink__ = Some(map_.next_value()?);
                        }
                        GeneratedField::LocalIp => {
                            if local_ip__.is_some() {
                                return Err(serde::de::Error::duplicate_field("localIp"));
                            }
                            local_ip__ = Some(map_.next_value()?);
                        }
                        GeneratedField::PrefixLen => {
                            if prefix_len__.is_some() {
                                return Err(serde::de::Error::duplicate_field("prefixLen"));
                            }
                            prefix_len__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Gateway => {
                            if gateway__.is_some() {
                                return Err(serde::de::Error::duplicate_field("gateway"));
                            }
                            gateway__ = Some(map_.next_value()?);
                        }
                        GeneratedField::LocalMac => {
                            if local_mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("localMac"));
                            }
                            local_mac__ = Some(map_.next_value()?);
                        }
                        GeneratedField::UdpChecksum => {
                            if udp_checksum__.is_some() {
                                return Err(serde::de::Error::duplicate_field("udpChecksum"));
                            }
                            udp_checksum__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ttl => {
                            if ttl__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ttl"));
                            }
                            ttl__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Remotes => {
                            if remotes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("remotes"));
                            }
                            remotes__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NoLearnRemotes => {
                            if no_learn_remotes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("noLearnRemotes"));
                            }
                            no_learn_remotes__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(VtepSpec {
                    uplink: uplink__.unwrap_or_default(),
                    local_ip: local_ip__.unwrap_or_default(),
                    prefix_len: prefix_len__.unwrap_or_default(),
                    gateway: gateway__.unwrap_or_default(),
                    local_mac: local_mac__.unwrap_or_default(),
                    udp_checksum: udp_checksum__.unwrap_or_default(),
                    ttl: ttl__.unwrap_or_default(),
                    remotes: remotes__.unwrap_or_default(),
                    no_learn_remotes: no_learn_remotes__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.VtepSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for VtepStatus {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.ip.is_empty() {
            len += 1;
        }
        if !self.next_hop.is_empty() {
            len += 1;
        }
        if !self.next_hop_mac.is_empty() {
            len += 1;
        }
        if self.learned {
            len += 1;
        }
        if !self.flood_vnis.is_empty() {
            len += 1;
        }
        if self.tx_packets != 0 {
            len += 1;
        }
        if self.rx_packets != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("dpu.switch.v1.VtepStatus", len)?;
        if !self.ip.is_empty() {
            struct_ser.serialize_field("ip", &self.ip)?;
        }
        if !self.next_hop.is_empty() {
            struct_ser.serialize_field("nextHop", &self.next_hop)?;
        }
        if !self.next_hop_mac.is_empty() {
            struct_ser.serialize_field("nextHopMac", &self.next_hop_mac)?;
        }
        if self.learned {
            struct_ser.serialize_field("learned", &self.learned)?;
        }
        if !self.flood_vnis.is_empty() {
            struct_ser.serialize_field("floodVnis", &self.flood_vnis)?;
        }
        if self.tx_packets != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("txPackets", ToString::to_string(&self.tx_packets).as_str())?;
        }
        if self.rx_packets != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("rxPackets", ToString::to_string(&self.rx_packets).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for VtepStatus {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "ip",
            "next_hop",
            "nextHop",
            "next_hop_mac",
            "nextHopMac",
            "learned",
            "flood_vnis",
            "floodVnis",
            "tx_packets",
            "txPackets",
            "rx_packets",
            "rxPackets",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Ip,
            NextHop,
            NextHopMac,
            Learned,
            FloodVnis,
            TxPackets,
            RxPackets,
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
                            "ip" => Ok(GeneratedField::Ip),
                            "nextHop" | "next_hop" => Ok(GeneratedField::NextHop),
                            "nextHopMac" | "next_hop_mac" => Ok(GeneratedField::NextHopMac),
                            "learned" => Ok(GeneratedField::Learned),
                            "floodVnis" | "flood_vnis" => Ok(GeneratedField::FloodVnis),
                            "txPackets" | "tx_packets" => Ok(GeneratedField::TxPackets),
                            "rxPackets" | "rx_packets" => Ok(GeneratedField::RxPackets),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = VtepStatus;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct dpu.switch.v1.VtepStatus")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<VtepStatus, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut ip__ = None;
                let mut next_hop__ = None;
                let mut next_hop_mac__ = None;
                let mut learned__ = None;
                let mut flood_vnis__ = None;
                let mut tx_packets__ = None;
                let mut rx_packets__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Ip => {
                            if ip__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ip"));
                            }
                            ip__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextHop => {
                            if next_hop__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextHop"));
                            }
                            next_hop__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NextHopMac => {
                            if next_hop_mac__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nextHopMac"));
                            }
                            next_hop_mac__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Learned => {
                            if learned__.is_some() {
                                return Err(serde::de::Error::duplicate_field("learned"));
                            }
                            learned__ = Some(map_.next_value()?);
                        }
                        GeneratedField::FloodVnis => {
                            if flood_vnis__.is_some() {
                                return Err(serde::de::Error::duplicate_field("floodVnis"));
                            }
                            flood_vnis__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::TxPackets => {
                            if tx_packets__.is_some() {
                                return Err(serde::de::Error::duplicate_field("txPackets"));
                            }
                            tx_packets__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::RxPackets => {
                            if rx_packets__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rxPackets"));
                            }
                            rx_packets__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(VtepStatus {
                    ip: ip__.unwrap_or_default(),
                    next_hop: next_hop__.unwrap_or_default(),
                    next_hop_mac: next_hop_mac__.unwrap_or_default(),
                    learned: learned__.unwrap_or_default(),
                    flood_vnis: flood_vnis__.unwrap_or_default(),
                    tx_packets: tx_packets__.unwrap_or_default(),
                    rx_packets: rx_packets__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("dpu.switch.v1.VtepStatus", FIELDS, GeneratedVisitor)
    }
}
