//! Feature identifiers (NVMe Base 2.0 §5.27.1) and the features a host sets that change
//! nothing on a fabrics target but are mandatory, so tools and hosts read back what they
//! set: Arbitration, Power Management, Temperature Threshold, Error Recovery and Write
//! Atomicity Normal. Pure state, one per controller; the temperature thresholds decide
//! SMART's temperature warning (and its asynchronous event).

use dpu_nvmf_proto::cqe::Status;

/// Feature identifiers (§5.27.1).
pub mod fid {
    /// Arbitration (§5.27.1.1).
    pub const ARBITRATION: u8 = 0x01;
    /// Power Management (§5.27.1.2).
    pub const POWER_MANAGEMENT: u8 = 0x02;
    /// Temperature Threshold (§5.27.1.3).
    pub const TEMPERATURE_THRESHOLD: u8 = 0x04;
    /// Error Recovery (namespace specific; the NVM Command Set's).
    pub const ERROR_RECOVERY: u8 = 0x05;
    /// Volatile Write Cache (§5.27.1.4).
    pub const VOLATILE_WRITE_CACHE: u8 = 0x06;
    /// Number of Queues (§5.27.1.5).
    pub const NUMBER_OF_QUEUES: u8 = 0x07;
    /// Write Atomicity Normal (the NVM Command Set's).
    pub const WRITE_ATOMICITY_NORMAL: u8 = 0x0A;
    /// Asynchronous Event Configuration (§5.27.1.7).
    pub const ASYNC_EVENT_CONFIG: u8 = 0x0B;
    /// Keep Alive Timer (§5.27.1.12).
    pub const KEEP_ALIVE_TIMER: u8 = 0x0F;
    /// Host Identifier (§5.27.1.26).
    pub const HOST_IDENTIFIER: u8 = 0x81;
    /// Reservation Notification Mask (§5.27.1.27).
    pub const RESERVATION_NOTIFICATION_MASK: u8 = 0x82;
    /// Reservation Persistence (§5.27.1.28).
    pub const RESERVATION_PERSISTENCE: u8 = 0x83;
    /// Namespace Write Protection Config (§8.12).
    pub const NAMESPACE_WRITE_PROTECTION: u8 = 0x84;
}

/// Asynchronous Event Configuration's default (§5.27.1.7): no notice until the host asks.
pub const ASYNC_EVENT_CONFIG_DEFAULT: u32 = 0;

/// Volatile Write Cache's default (§5.27.1.4): enabled, as a Linux host expects of a
/// cache it may flush.
pub const VOLATILE_WRITE_CACHE_DEFAULT: bool = true;

/// Composite Temperature the SMART log reports, in kelvins (27 °C): a card has no
/// sensor a virtual namespace could speak for, so it is a constant.
pub const COMPOSITE_TEMPERATURE: u16 = 300;
/// Warning Composite Temperature Threshold (Identify WCTEMP), 70 °C: the default over
/// temperature threshold of the composite temperature (§5.27.1.3).
pub const WCTEMP: u16 = 343;
/// Critical Composite Temperature Threshold (Identify CCTEMP), 85 °C.
pub const CCTEMP: u16 = 358;

/// Arbitration Burst 111b: no limit (§5.27.1.1). The weights mean nothing with round
/// robin arbitration only (CAP.AMS 0).
const ARBITRATION_DEFAULT: u32 = 0b111;
/// Error Recovery's DULBE bit: deallocated blocks read as zeroes here, never as an
/// error (Identify Namespace NSFEAT bit 2 is clear), so it cannot be set.
const DULBE: u32 = 1 << 16;

/// The host-set values of the features this module keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFeatures {
    arbitration: u32,
    /// TLER, CDW11 bits 15:0.
    error_recovery: u32,
    /// DN, CDW11 bit 0.
    write_atomicity: u32,
    /// Over and under temperature thresholds of the composite temperature, kelvins.
    over: u16,
    under: u16,
}

impl Default for HostFeatures {
    fn default() -> Self {
        HostFeatures {
            arbitration: ARBITRATION_DEFAULT,
            error_recovery: 0,
            write_atomicity: 0,
            over: WCTEMP,
            // 0 K: no under temperature warning unless a host asks for one.
            under: 0,
        }
    }
}

/// Which threshold a Temperature Threshold command selects (CDW11 bits 21:16).
enum Threshold {
    Over,
    Under,
}

/// TMPSEL (CDW11 bits 19:16) and THSEL (21:20): the composite temperature is the only
/// sensor; TMPSEL Fh (all sensors) is the composite one too, for Set Features only.
fn threshold(cdw11: u32, set: bool) -> Result<Threshold, Status> {
    match ((cdw11 >> 16) & 0xF, (cdw11 >> 20) & 0b11) {
        (0, 0) => Ok(Threshold::Over),
        (0, 1) => Ok(Threshold::Under),
        (0xF, 0) if set => Ok(Threshold::Over),
        (0xF, 1) if set => Ok(Threshold::Under),
        _ => Err(Status::INVALID_FIELD),
    }
}

impl HostFeatures {
    /// Whether this module keeps feature `fid`.
    #[must_use]
    pub fn keeps(fid: u8) -> bool {
        matches!(
            fid,
            fid::ARBITRATION
                | fid::POWER_MANAGEMENT
                | fid::TEMPERATURE_THRESHOLD
                | fid::ERROR_RECOVERY
                | fid::WRITE_ATOMICITY_NORMAL
        )
    }

    /// Get Features' Dword 0 for `fid` with `cdw11` (the threshold a Temperature
    /// Threshold Get selects). `default` asks for the default value (SEL 001b, and
    /// SEL 010b, since none is saveable).
    pub fn get(&self, fid: u8, cdw11: u32, default: bool) -> Result<u32, Status> {
        let d = HostFeatures::default();
        let f = if default { &d } else { self };
        Ok(match fid {
            fid::ARBITRATION => f.arbitration,
            // Power state 0, the only one (Identify NPSS 0), no workload hint.
            fid::POWER_MANAGEMENT => 0,
            fid::TEMPERATURE_THRESHOLD => {
                let (t, sel) = match threshold(cdw11, false)? {
                    Threshold::Over => (f.over, 0),
                    Threshold::Under => (f.under, 1 << 20),
                };
                u32::from(t) | sel
            }
            fid::ERROR_RECOVERY => f.error_recovery,
            fid::WRITE_ATOMICITY_NORMAL => f.write_atomicity,
            _ => return Err(Status::INVALID_FIELD),
        })
    }

    /// Set Features of `fid` to `cdw11`; a value the target cannot honour is Invalid
    /// Field and changes nothing.
    pub fn set(&mut self, fid: u8, cdw11: u32) -> Result<(), Status> {
        match fid {
            // HPW, MPW, LPW and AB; reserved bits 7:3 ignored.
            fid::ARBITRATION => self.arbitration = cdw11 & 0xFFFF_FF07,
            // PS (bits 4:0) beyond power state 0, or a workload hint (bits 7:5).
            fid::POWER_MANAGEMENT if cdw11 & 0xFF != 0 => return Err(Status::INVALID_FIELD),
            fid::POWER_MANAGEMENT => {}
            fid::TEMPERATURE_THRESHOLD => {
                let t = (cdw11 & 0xFFFF) as u16;
                match threshold(cdw11, true)? {
                    Threshold::Over => self.over = t,
                    Threshold::Under => self.under = t,
                }
            }
            fid::ERROR_RECOVERY if cdw11 & DULBE != 0 => return Err(Status::INVALID_FIELD),
            fid::ERROR_RECOVERY => self.error_recovery = cdw11 & 0xFFFF,
            fid::WRITE_ATOMICITY_NORMAL => self.write_atomicity = cdw11 & 1,
            _ => return Err(Status::INVALID_FIELD),
        }
        Ok(())
    }

    /// SMART's temperature warning (Critical Warning bit 1, §5.16.1.3): the composite
    /// temperature is at or above the over threshold, or at or below a nonzero under
    /// threshold.
    #[must_use]
    pub fn temperature_warning(&self) -> bool {
        COMPOSITE_TEMPERATURE >= self.over || COMPOSITE_TEMPERATURE <= self.under
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNDER: u32 = 1 << 20;

    #[test]
    fn temperature_thresholds_round_trip_and_raise_the_warning() {
        let mut f = HostFeatures::default();
        assert_eq!(f.get(fid::TEMPERATURE_THRESHOLD, 0, false), Ok(u32::from(WCTEMP)));
        assert_eq!(f.get(fid::TEMPERATURE_THRESHOLD, UNDER, false), Ok(UNDER));
        assert!(!f.temperature_warning());
        f.set(fid::TEMPERATURE_THRESHOLD, 298).unwrap();
        assert_eq!(f.get(fid::TEMPERATURE_THRESHOLD, 0, false), Ok(298));
        assert_eq!(f.get(fid::TEMPERATURE_THRESHOLD, 0, true), Ok(u32::from(WCTEMP)));
        assert!(f.temperature_warning());
        f.set(fid::TEMPERATURE_THRESHOLD, (0xF << 16) | 350).unwrap();
        assert!(!f.temperature_warning());
        f.set(fid::TEMPERATURE_THRESHOLD, UNDER | 300).unwrap();
        assert!(f.temperature_warning());
        assert_eq!(f.get(fid::TEMPERATURE_THRESHOLD, UNDER, false), Ok(UNDER | 300));
    }

    #[test]
    fn unknown_sensors_and_thresholds_are_invalid_and_change_nothing() {
        let mut f = HostFeatures::default();
        for cdw11 in [(1 << 16) | 290, (2 << 20) | 290, (0xF << 16) | (1 << 21)] {
            assert_eq!(f.set(fid::TEMPERATURE_THRESHOLD, cdw11), Err(Status::INVALID_FIELD));
        }
        assert_eq!(f.get(fid::TEMPERATURE_THRESHOLD, 0xF << 16, false), Err(Status::INVALID_FIELD));
        assert_eq!(f, HostFeatures::default());
    }

    #[test]
    fn only_power_state_0_and_no_dulbe() {
        let mut f = HostFeatures::default();
        assert_eq!(f.set(fid::POWER_MANAGEMENT, 1), Err(Status::INVALID_FIELD));
        assert_eq!(f.set(fid::POWER_MANAGEMENT, 1 << 5), Err(Status::INVALID_FIELD));
        f.set(fid::POWER_MANAGEMENT, 0).unwrap();
        assert_eq!(f.set(fid::ERROR_RECOVERY, DULBE | 5), Err(Status::INVALID_FIELD));
        f.set(fid::ERROR_RECOVERY, 5).unwrap();
        assert_eq!(f.get(fid::ERROR_RECOVERY, 0, false), Ok(5));
    }

    #[test]
    fn arbitration_and_write_atomicity_keep_their_fields() {
        let mut f = HostFeatures::default();
        assert_eq!(f.get(fid::ARBITRATION, 0, false), Ok(ARBITRATION_DEFAULT));
        f.set(fid::ARBITRATION, 0x0302_01FA).unwrap();
        assert_eq!(f.get(fid::ARBITRATION, 0, false), Ok(0x0302_0102));
        f.set(fid::WRITE_ATOMICITY_NORMAL, 3).unwrap();
        assert_eq!(f.get(fid::WRITE_ATOMICITY_NORMAL, 0, false), Ok(1));
        assert!(HostFeatures::keeps(fid::ARBITRATION));
        assert!(!HostFeatures::keeps(fid::NUMBER_OF_QUEUES));
    }
}
