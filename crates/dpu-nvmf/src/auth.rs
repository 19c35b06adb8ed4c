//! The controller's side of in-band authentication on one queue (NVMe Base 2.2 §8.3.4,
//! DH-HMAC-CHAP with the NULL DH group or one of RFC 7919), sans-IO: Authentication Send
//! data in, Authentication Receive data out.
//!
//! A queue whose host has a secret is told so in its Connect response (AUTHREQ ATR) and
//! accepts nothing but Authentication Send/Receive until a transaction succeeds. The
//! steps follow Linux's host and nvmet: Negotiate → Challenge → Reply → Success1, then
//! Success2 when the host asked the controller to prove itself. A failed step is answered
//! by `AUTH_Failure1` on the next Receive; after it (or the host's `AUTH_Failure2`) the
//! connection closes, and until then the queue runs nothing but authentication and no
//! Negotiate restarts the transaction, so a host cannot keep guessing on one queue. A
//! new Negotiate on a queue without a failed step restarts the transaction with the
//! host's current secrets (re-authentication after a rotation; the queue stays usable
//! while it runs, until a step fails).
//!
//! A DH group's exponentiations take milliseconds each (ffdhe8192: about 50 ms on x86),
//! so the session does not run them: a Receive that needs our key pair, or a Reply that
//! needs the session key, answers [`Progress::Compute`] with a [`DhJob`], which the shell
//! runs off the reactor and hands back to [`AuthSession::computed`].

use std::sync::Arc;

use dpu_nvmf_proto::Status;
use dpu_nvmf_proto::auth::{
    AuthMessage, AuthTransfer, Challenge, Failure, Negotiate, Reply, Success1, dh_group, failure,
    hash,
};

use zeroize::Zeroizing;

use crate::dhchap::{self, DhGroup, DhKey, Exchange, Secret, SecretError};

/// The DH-HMAC-CHAP secrets of one host of a subsystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSecrets {
    /// The secret the host proves it knows.
    pub host: Secret,
    /// The secret the controller proves it knows, when the host asks (bidirectional).
    pub ctrl: Option<Secret>,
    /// The DH group the transaction must use (`dh_group::NULL`, or ffdhe2048-8192 of
    /// RFC 7919); a host that does not offer it fails with "DH group not usable".
    pub dh_group: u8,
    /// The hash the transaction must use (a HashID), or 0 for the host's first choice;
    /// a host that does not offer it fails with "hash function not usable".
    pub hash: u8,
}

impl HostSecrets {
    /// Parses a host's secret and, unless `ctrl` is empty, the controller's, to be used
    /// with DH group `dh_group` (0: NULL, 1-5: ffdhe2048-8192) and hash `hash_id` (0: the
    /// host's choice, 1-3: SHA-256/384/512). An error names the field (`dhchap_secret`,
    /// `dhchap_ctrl_secret`, `dh_group` or `hash`), never the secret.
    pub fn parse(
        host: &str,
        ctrl: &str,
        dh_group: u8,
        hash_id: u8,
    ) -> Result<Self, (&'static str, SecretError)> {
        if dh_group != dh_group::NULL && DhGroup::get(dh_group).is_none() {
            return Err(("dh_group", SecretError::DhGroup(dh_group)));
        }
        if hash_id != 0 && hash::len(hash_id).is_none() {
            return Err(("hash", SecretError::HashId(hash_id)));
        }
        let host: Secret = host.parse().map_err(|e| ("dhchap_secret", e))?;
        let ctrl = if ctrl.trim().is_empty() {
            None
        } else {
            let c: Secret = ctrl.parse().map_err(|e| ("dhchap_ctrl_secret", e))?;
            // One key for both directions would let a controller's answer be replayed
            // as a host's.
            if c == host {
                return Err(("dhchap_ctrl_secret", SecretError::Reused));
            }
            Some(c)
        };
        Ok(HostSecrets { host, ctrl, dh_group, hash: hash_id })
    }
}

/// Largest Authentication Receive answer built: a host's larger allocation gets the
/// message zero-padded to this many bytes (Linux asks for 4 KiB).
const MAX_RECEIVE: usize = 8192;

/// DH key pairs a queue gets between successful transactions: a Linux host needs one
/// per transaction (a failed one closes the queue); restarting with Negotiate beyond
/// this fails, so a queue that keeps restarting, authenticated before or not, cannot
/// keep the DH threads that every host's authentication shares busy.
const MAX_KEYS_PER_SUCCESS: u32 = 3;

/// The next message the transaction expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The host's Negotiate (Send).
    Negotiate,
    /// The controller's Challenge (Receive).
    Challenge,
    /// The host's Reply (Send).
    Reply,
    /// The controller's Success1 (Receive).
    Success1,
    /// The host's Success2 (Send).
    Success2,
    /// The controller's Failure1 with this reason code explanation (Receive).
    Failure1(u8),
}

/// A Diffie-Hellman computation a transaction waits for ([`DhJob::run`] on a blocking
/// thread: it is constant time in the private exponent, and slow).
#[derive(Debug)]
pub enum DhJob {
    /// Our ephemeral key pair for the Challenge.
    Generate(&'static DhGroup),
    /// The session key from our key and the host's public value (its Reply).
    Agree(Arc<DhKey>, Vec<u8>),
}

/// The result of a [`DhJob`] (its `Debug` shows no key).
pub enum DhOutput {
    /// A key pair; `None` if the system's random generator failed.
    Key(Option<DhKey>),
    /// The session key; `None` if the host's value is not usable.
    SessionKey(Option<Zeroizing<Vec<u8>>>),
}

impl std::fmt::Debug for DhOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DhOutput::Key(k) => write!(f, "Key({})", if k.is_some() { "made" } else { "failed" }),
            DhOutput::SessionKey(k) => {
                write!(f, "SessionKey({})", if k.is_some() { "redacted" } else { "refused" })
            }
        }
    }
}

impl DhJob {
    /// Runs the computation (milliseconds: never on the reactor).
    pub fn run(self) -> DhOutput {
        match self {
            DhJob::Generate(g) => DhOutput::Key(g.generate()),
            DhJob::Agree(key, peer) => DhOutput::SessionKey(key.session_key(&peer)),
        }
    }

    /// What the job yields when it could not run (its command fails).
    pub fn failed(&self) -> DhOutput {
        match self {
            DhJob::Generate(_) => DhOutput::Key(None),
            DhJob::Agree(..) => DhOutput::SessionKey(None),
        }
    }
}

/// What an Authentication Send or Receive came to.
#[derive(Debug)]
pub enum Progress {
    /// The command completes: with this data for a Receive (empty for a Send), having
    /// done this to the queue.
    Answer(Vec<u8>, AuthEvent),
    /// The command waits for this computation; its output goes to
    /// [`AuthSession::computed`], which answers the command.
    Compute(DhJob),
}

/// A command waiting for a [`DhJob`].
enum Waiting {
    /// A Receive of this many bytes, for our key pair (then the Challenge).
    Key { len: u32 },
    /// The host's Reply, for the session key (then its check).
    SessionKey(Reply),
}

/// What a command did to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthEvent {
    /// The transaction goes on (or finished without changing the queue's state).
    Continue,
    /// The queue is now authenticated.
    Authenticated,
    /// The transaction failed: close the connection once the answer is sent.
    Failed,
}

/// The authentication state of one queue (its `Debug` shows the step, not the keys).
pub struct AuthSession {
    secrets: Arc<HostSecrets>,
    hostnqn: String,
    subnqn: String,
    step: Step,
    tid: u16,
    sc_c: u8,
    hash: u8,
    c1: Vec<u8>,
    s1: u32,
    /// The host's challenge C2 and sequence number S2, when it authenticates us.
    c2: Option<(Vec<u8>, u32)>,
    /// Key pairs made for this queue's Challenges since its last successful transaction.
    keys_made: u32,
    /// Our ephemeral DH key of the transaction (not with the NULL group).
    dh: Option<Arc<DhKey>>,
    /// The command waiting for a DH computation, if any.
    waiting: Option<Waiting>,
    /// The DH session key, once the host's public value came.
    session_key: Option<Zeroizing<Vec<u8>>>,
    authenticated: bool,
    /// Whether a transaction has ever succeeded on this queue.
    proven: bool,
}

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSession")
            .field("step", &self.step)
            .field("tid", &self.tid)
            .field("authenticated", &self.authenticated)
            .field("computing", &self.waiting.is_some())
            .finish_non_exhaustive()
    }
}

impl AuthSession {
    /// A queue of `hostnqn` on `subnqn` that must authenticate with `secrets`.
    pub fn new(secrets: Arc<HostSecrets>, hostnqn: &str, subnqn: &str) -> Self {
        AuthSession {
            secrets,
            hostnqn: hostnqn.to_owned(),
            subnqn: subnqn.to_owned(),
            step: Step::Negotiate,
            tid: 0,
            sc_c: 0,
            hash: hash::SHA256,
            c1: Vec::new(),
            s1: 0,
            c2: None,
            keys_made: 0,
            dh: None,
            waiting: None,
            session_key: None,
            authenticated: false,
            proven: false,
        }
    }

    /// Whether the queue is authenticated: a transaction succeeded and no step failed
    /// since.
    pub fn authenticated(&self) -> bool {
        self.authenticated
    }

    /// Whether a transaction has ever succeeded on this queue (a queue whose
    /// re-authentication failed has, and closes with its Failure1, not a deadline).
    pub fn proven(&self) -> bool {
        self.proven
    }

    /// The command fields every Send and Receive must carry (§6.1/§6.2: SECP E9h with
    /// SPSP0/SPSP1 01h and a non-zero length).
    /// While a command waits for a DH computation the host (which sends one message at
    /// a time) has nothing to send: another command is refused and changes nothing.
    fn check(&self, t: &AuthTransfer) -> Result<(), Status> {
        if !t.is_dhchap() || t.len == 0 {
            return Err(Status::INVALID_FIELD);
        }
        if self.waiting.is_some() {
            return Err(Status::COMMAND_SEQUENCE_ERROR);
        }
        Ok(())
    }

    /// A failed step: the queue is unauthenticated from now on (a re-authenticating one
    /// too), and its next Receive gets `AUTH_Failure1` with the first failure's
    /// explanation, then the connection closes.
    fn fail(&mut self, explanation: u8) -> AuthEvent {
        self.authenticated = false;
        self.forget_keys();
        if !matches!(self.step, Step::Failure1(_)) {
            self.step = Step::Failure1(explanation);
        }
        AuthEvent::Continue
    }

    /// Authentication Send with `data` (the command's data, `t.len` bytes). A Negotiate
    /// starts the transaction with the host's `current` secrets, when it still has some
    /// (a rotated secret takes effect at the host's next authentication).
    pub fn send(
        &mut self,
        t: &AuthTransfer,
        data: &[u8],
        current: impl FnOnce() -> Option<Arc<HostSecrets>>,
    ) -> Result<Progress, Status> {
        self.check(t)?;
        if data.len() != t.len as usize {
            return Err(Status::DATA_SGL_LENGTH_INVALID);
        }
        let sent = |e| Ok(Progress::Answer(Vec::new(), e));
        let msg = match AuthMessage::parse(data) {
            Ok(m) => m,
            Err(_) => return sent(self.fail(failure::INCORRECT_PAYLOAD)),
        };
        if let AuthMessage::Negotiate(n) = &msg {
            // A failed transaction is not restarted: one guess per connection.
            if matches!(self.step, Step::Failure1(_)) {
                return sent(AuthEvent::Continue);
            }
            return sent(self.negotiate(n, current));
        }
        let expected = matches!(
            (&msg, self.step),
            (AuthMessage::Reply(_), Step::Reply)
                | (AuthMessage::Success2 { .. }, Step::Success2)
                | (AuthMessage::Failure2(_), _)
        );
        if !expected {
            return sent(self.fail(failure::INCORRECT_MESSAGE));
        }
        if msg.tid() != self.tid {
            return sent(self.fail(failure::INCORRECT_PAYLOAD));
        }
        match (msg, self.step) {
            (AuthMessage::Reply(r), Step::Reply) => {
                let hl = hash::len(self.hash).unwrap_or_default();
                if r.response.len() != hl || r.dh_value.is_empty() != self.dh.is_none() {
                    return sent(self.fail(failure::INCORRECT_PAYLOAD));
                }
                match &self.dh {
                    Some(key) => {
                        let job = DhJob::Agree(key.clone(), r.dh_value.clone());
                        self.waiting = Some(Waiting::SessionKey(r));
                        Ok(Progress::Compute(job))
                    }
                    None => sent(self.check_reply(r)),
                }
            }
            (AuthMessage::Success2 { .. }, Step::Success2) => {
                self.step = Step::Negotiate;
                self.succeeded();
                sent(AuthEvent::Authenticated)
            }
            // The host did not accept our response (or gave up).
            _ => {
                self.authenticated = false;
                self.step = Step::Negotiate;
                sent(AuthEvent::Failed)
            }
        }
    }

    /// The host's Negotiate: starts a transaction.
    fn negotiate(
        &mut self,
        n: &Negotiate,
        current: impl FnOnce() -> Option<Arc<HostSecrets>>,
    ) -> AuthEvent {
        if let Some(s) = current() {
            self.secrets = s;
        }
        self.tid = n.tid;
        self.sc_c = n.sc_c;
        self.c2 = None;
        self.dh = None;
        self.session_key = None;
        // Secure channel concatenation (TLS) is not offered.
        if n.sc_c != 0 {
            return self.fail(failure::CONCAT_MISMATCH);
        }
        // The operator's hash, which the host must offer, else the host's first we know
        // (§8.3.4.5.2: the controller selects one of the host's).
        let wanted = |h: u8| match self.secrets.hash {
            0 => hash::len(h).is_some(),
            required => h == required,
        };
        let Some(&h) = n.hashes.iter().find(|&&h| wanted(h)) else {
            return self.fail(failure::HASH_UNUSABLE);
        };
        // The operator's group, which the host must offer.
        if !n.dh_groups.contains(&self.secrets.dh_group) {
            return self.fail(failure::DHGROUP_UNUSABLE);
        }
        self.hash = h;
        self.step = Step::Challenge;
        AuthEvent::Continue
    }

    /// Checks the host's response in its Reply (with the session key in place, if any).
    fn check_reply(&mut self, r: Reply) -> AuthEvent {
        let c1 = self.augmented(&self.c1);
        let x = Exchange {
            hash: self.hash,
            challenge: &c1,
            seqnum: self.s1,
            tid: self.tid,
            sc_c: self.sc_c,
        };
        let expected = dhchap::host_response(&x, &self.secrets.host, &self.hostnqn, &self.subnqn);
        if !expected.is_some_and(|e| dhchap::responses_match(&e, &r.response)) {
            return self.fail(failure::FAILED);
        }
        self.step = Step::Success1;
        // S2 = 0 with CVALID carries C2 for a generated TLS PSK only; no proof of the
        // controller is asked for then.
        if r.challenge_valid && r.seqnum != 0 {
            if self.secrets.ctrl.is_none() {
                return self.fail(failure::FAILED);
            }
            self.c2 = Some((r.challenge, r.seqnum));
            return AuthEvent::Continue;
        }
        self.succeeded();
        AuthEvent::Authenticated
    }

    fn succeeded(&mut self) {
        self.authenticated = true;
        self.proven = true;
        self.keys_made = 0;
        self.forget_keys();
    }

    /// Drops the transaction's DH private key and session key once nothing needs them
    /// (nvmet frees them at the final step too): a queue that lives on keeps nothing
    /// that would let a later look at its memory test guessed secrets against a
    /// recorded exchange.
    fn forget_keys(&mut self) {
        self.dh = None;
        self.session_key = None;
    }

    /// Authentication Receive of at most `t.len` bytes, into a transfer of `transfer`
    /// bytes (the command's SGL): the controller's next message.
    pub fn receive(&mut self, t: &AuthTransfer, transfer: u32) -> Result<Progress, Status> {
        self.check(t)?;
        // The transfer is the allocation, as nvmet checks it (and a Send's data): a host
        // that took less, or nothing, would move the transaction on without its message.
        if transfer != t.len {
            return Err(Status::DATA_SGL_LENGTH_INVALID);
        }
        let (msg, event) = match self.step {
            Step::Challenge => {
                let hl = hash::len(self.hash).unwrap_or(32);
                let group = DhGroup::get(self.secrets.dh_group);
                // Refused before any key is made: a host cannot have us generate keys by
                // asking with too small a buffer.
                let dh_len = group.map_or(0, DhGroup::value_len);
                if (t.len as usize) < 16 + hl + dh_len {
                    return Err(Status::INVALID_FIELD);
                }
                if let Some(g) = group {
                    // A queue that keeps restarting without completing would have us
                    // make a key pair per restart.
                    if self.keys_made >= MAX_KEYS_PER_SUCCESS {
                        let (m, e) = self.failure1(failure::FAILED);
                        return Ok(Progress::Answer(padded(&m, t.len), e));
                    }
                    self.keys_made += 1;
                    self.waiting = Some(Waiting::Key { len: t.len });
                    return Ok(Progress::Compute(DhJob::Generate(g)));
                }
                self.dh = None;
                (self.challenge()?, AuthEvent::Continue)
            }
            Step::Success1 => {
                let hl = hash::len(self.hash).unwrap_or_default();
                let response = match (&self.c2, &self.secrets.ctrl) {
                    (Some((c2, s2)), Some(ctrl)) => {
                        let c2 = self.augmented(c2);
                        let x = Exchange {
                            hash: self.hash,
                            challenge: &c2,
                            seqnum: *s2,
                            tid: self.tid,
                            sc_c: self.sc_c,
                        };
                        dhchap::controller_response(&x, ctrl, &self.subnqn, &self.hostnqn)
                    }
                    _ => None,
                };
                self.step = if response.is_some() { Step::Success2 } else { Step::Negotiate };
                self.forget_keys();
                let m =
                    AuthMessage::Success1(Success1 { tid: self.tid, hash_len: hl as u8, response });
                (m, AuthEvent::Continue)
            }
            Step::Failure1(explanation) => self.failure1(explanation),
            // A Receive where the host should be sending.
            Step::Negotiate | Step::Reply | Step::Success2 => self.failure1(failure::FAILED),
        };
        Ok(Progress::Answer(padded(&msg, t.len), event))
    }

    /// Resumes the command that waited for `out`, the output of its [`DhJob`], and
    /// answers it. An output nobody waits for is an internal error and changes nothing.
    pub fn computed(&mut self, out: DhOutput) -> Result<Progress, Status> {
        match (self.waiting.take(), out) {
            (Some(Waiting::Key { len }), DhOutput::Key(key)) => {
                // A failed generator leaves the step as it was, as if no Receive came.
                self.dh = Some(Arc::new(key.ok_or(Status::INTERNAL_ERROR)?));
                let m = self.challenge()?;
                Ok(Progress::Answer(padded(&m, len), AuthEvent::Continue))
            }
            (Some(Waiting::SessionKey(r)), DhOutput::SessionKey(ks)) => {
                // The private key's one use is done.
                self.dh = None;
                let event = match ks {
                    Some(ks) => {
                        self.session_key = Some(ks);
                        self.check_reply(r)
                    }
                    // g^y outside 2..p-2.
                    None => self.fail(failure::DHGROUP_UNUSABLE),
                };
                Ok(Progress::Answer(Vec::new(), event))
            }
            (waiting, _) => {
                self.waiting = waiting;
                Err(Status::INTERNAL_ERROR)
            }
        }
    }

    /// Our Challenge with a fresh C1 and S1 (and our DH value, when a key is in place).
    fn challenge(&mut self) -> Result<AuthMessage, Status> {
        let hl = hash::len(self.hash).unwrap_or(32);
        let (Some(c1), Some(s1)) = (dhchap::random_bytes(hl), dhchap::random_seqnum()) else {
            return Err(Status::INTERNAL_ERROR);
        };
        let m = AuthMessage::Challenge(Challenge {
            tid: self.tid,
            hash: self.hash,
            dh_group: self.dh.as_ref().map_or(dh_group::NULL, |_| self.secrets.dh_group),
            seqnum: s1,
            challenge: c1.clone(),
            dh_value: self.dh.as_ref().map(|k| k.public.clone()).unwrap_or_default(),
        });
        (self.c1, self.s1) = (c1, s1);
        self.step = Step::Reply;
        Ok(m)
    }

    /// A challenge as the responses use it: augmented with the DH session key, if any.
    fn augmented(&self, challenge: &[u8]) -> Vec<u8> {
        match &self.session_key {
            Some(ks) => dhchap::augmented_challenge(self.hash, ks, challenge)
                .unwrap_or_else(|| challenge.to_vec()),
            None => challenge.to_vec(),
        }
    }

    fn failure1(&mut self, explanation: u8) -> (AuthMessage, AuthEvent) {
        self.authenticated = false;
        self.forget_keys();
        self.step = Step::Negotiate;
        let f = Failure { tid: self.tid, reason: failure::REASON_FAILED, explanation };
        (AuthMessage::Failure1(f), AuthEvent::Failed)
    }
}

/// A controller message as a Receive of `len` bytes returns it: zero-padded to the
/// allocation, up to [`MAX_RECEIVE`].
fn padded(msg: &AuthMessage, len: u32) -> Vec<u8> {
    let mut data = msg.to_bytes();
    if data.len() < len as usize {
        data.resize((len as usize).min(MAX_RECEIVE), 0);
    }
    data
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HOST: &str = "nqn.2014-08.org.example:host";
    const SUB: &str = "nqn.2014-08.org.example:sub";

    fn answer(p: Result<Progress, Status>) -> (Vec<u8>, AuthEvent) {
        match p.unwrap() {
            Progress::Answer(data, event) => (data, event),
            Progress::Compute(job) => panic!("{job:?}"),
        }
    }

    /// Runs the DH job a command waits for and answers the command.
    fn computed(s: &mut AuthSession, p: Result<Progress, Status>) -> (Vec<u8>, AuthEvent) {
        let Ok(Progress::Compute(job)) = p else { panic!("{p:?}") };
        answer(s.computed(job.run()))
    }

    fn send(s: &mut AuthSession, m: &AuthMessage) -> Result<Progress, Status> {
        let b = m.to_bytes();
        s.send(&AuthTransfer::dhchap(b.len() as u32), &b, || None)
    }

    /// Negotiate, Challenge (with our key pair) and the host's Reply (with its DH value
    /// and `secret`'s response, asking for the controller's with `c2`), up to the Reply's
    /// check.
    fn up_to_the_reply(s: &mut AuthSession, secret: &Secret, c2: bool) -> AuthEvent {
        let negotiate = Negotiate {
            tid: 1,
            sc_c: 0,
            hashes: vec![hash::SHA256],
            dh_groups: vec![dh_group::FFDHE2048],
        };
        answer(send(s, &AuthMessage::Negotiate(negotiate)));
        let challenge = s.receive(&AuthTransfer::dhchap(4096), 4096);
        let (data, _) = computed(s, challenge);
        let Ok(AuthMessage::Challenge(c)) = AuthMessage::parse(&data) else { panic!() };
        let ours = DhGroup::get(c.dh_group).unwrap().generate().unwrap();
        let ks = ours.session_key(&c.dh_value).unwrap();
        let c1 = dhchap::augmented_challenge(c.hash, &ks, &c.challenge).unwrap();
        let x = Exchange { hash: c.hash, challenge: &c1, seqnum: c.seqnum, tid: 1, sc_c: 0 };
        let reply = AuthMessage::Reply(Reply {
            tid: 1,
            response: dhchap::host_response(&x, secret, HOST, SUB).unwrap(),
            challenge_valid: c2,
            seqnum: u32::from(c2),
            challenge: vec![7; 32],
            dh_value: ours.public.clone(),
        });
        let checked = send(s, &reply);
        computed(s, checked).1
    }

    /// The DH private key goes once the session key is made, the session key once the
    /// last response that needs it is computed, or the transaction fails.
    #[test]
    fn ephemeral_keys_are_dropped_once_the_transaction_no_longer_needs_them() {
        let secrets = Arc::new(HostSecrets {
            host: Secret::new(&[1; 32], 0).unwrap(),
            ctrl: Some(Secret::new(&[2; 32], 0).unwrap()),
            dh_group: dh_group::FFDHE2048,
            hash: 0,
        });
        let keys = |s: &AuthSession| (s.dh.is_some(), s.session_key.is_some());
        let host = secrets.host.clone();
        let mut s = AuthSession::new(secrets.clone(), HOST, SUB);
        assert_eq!(up_to_the_reply(&mut s, &host, false), AuthEvent::Authenticated);
        assert_eq!(keys(&s), (false, false));
        // Bidirectional: the session key augments C2 for the Success1, then goes.
        let mut s = AuthSession::new(secrets.clone(), HOST, SUB);
        assert_eq!(up_to_the_reply(&mut s, &host, true), AuthEvent::Continue);
        assert_eq!(keys(&s), (false, true));
        let (data, _) = answer(s.receive(&AuthTransfer::dhchap(4096), 4096));
        assert!(matches!(AuthMessage::parse(&data), Ok(AuthMessage::Success1(_))));
        assert_eq!(keys(&s), (false, false));
        // A wrong response.
        let mut s = AuthSession::new(secrets, HOST, SUB);
        let wrong = Secret::new(&[9; 32], 0).unwrap();
        assert_eq!(up_to_the_reply(&mut s, &wrong, false), AuthEvent::Continue);
        assert_eq!(keys(&s), (false, false));
        let (data, event) = answer(s.receive(&AuthTransfer::dhchap(4096), 4096));
        assert!(matches!(AuthMessage::parse(&data), Ok(AuthMessage::Failure1(_))));
        assert_eq!(event, AuthEvent::Failed);
    }
}
