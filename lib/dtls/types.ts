/** Public types of the DTLS server transport. */

/**
 * Where PSK keys come from. Called synchronously inside the handshake, so keys must already be in memory.
 * `identity` is a string when its bytes are valid UTF-8 (the usual case), else the raw bytes.
 * Return undefined for an unknown identity (the client gets an unknown_psk_identity alert).
 */
export interface PskStore {
  get(identity: Buffer | string): Buffer | undefined;
}

/**
 * Which raw public keys (RFC 7250) are trusted. Called synchronously inside the handshake with the SHA-256
 * (hex) of the client's SubjectPublicKeyInfo DER (see rpkFingerprint); true lets the handshake go on.
 */
export interface RpkStore {
  trusts(fingerprint: string, spki: Buffer): boolean;
}

/** Lines about the transport; keys never appear in them. Every method is optional. */
export interface DtlsLogger {
  debug?(msg: string): void;
  info?(msg: string): void;
  warn?(msg: string): void;
  error?(msg: string): void;
}

/** The authenticated identity of a DTLS peer. */
export type DtlsIdentity =
  | {
      type: 'psk';
      /** The identity as UTF-8 text, or as lowercase hex when its bytes are not valid UTF-8. */
      id: string;
      encoding: 'utf8' | 'hex';
    }
  | {
      type: 'x509';
      /** Common name of the client certificate, else its first DNS/URI subjectAltName, else its subject. */
      id: string;
      subject: string;
      san: string[];
    }
  | {
      type: 'rpk';
      /** SHA-256 of the client's SubjectPublicKeyInfo DER, lowercase hex. */
      id: string;
      /** The SubjectPublicKeyInfo DER, base64 (a public key: not a secret). */
      publicKey: string;
    };

/** The remote-info object of a `'message'` event (dgram's RemoteInfo plus the identity). */
export interface DtlsRemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
  /** Absent only when a certificate suite ran without a client certificate (no `ca` configured). */
  identity?: DtlsIdentity;
  cipher: string;
}

/** See DtlsServerOptions.datagrams. */
export interface DatagramTranslator {
  inbound(msg: Buffer, rinfo: { address: string; port: number; family: string; size: number }): { msg: Buffer; rinfo: { address: string; port: number; family: string } } | undefined;
  outbound(address: string, port: number): { address: string; port: number };
  /** The socket closed. */
  clear?(): void;
}

export interface DtlsServerOptions {
  /** 'udp4' (default) or 'udp6'. */
  type?: 'udp4' | 'udp6';
  /** PSK key store; enables the PSK suites. */
  psk?: PskStore;
  /** Server certificate (PEM, chain allowed) and private key (PEM); enable the ECDHE-ECDSA suites. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /**
   * Raw public keys (RFC 7250, OpenSSL 3.2+; see dtlsCapabilities().rpk): clients may authenticate with a key
   * this store trusts, and the server presents the raw public key of `key` (then `cert` is optional). Enables
   * nothing by itself: the ECDHE-ECDSA suites carry raw public keys, and `key` must be an EC P-256 key for them.
   */
  rpk?: RpkStore;
  /** CA certificates (PEM) that client certificates must chain to. */
  ca?: string | Buffer;
  /** With `ca` or `rpk`: refuse clients without a certificate or raw public key on ECDHE-ECDSA suites (default true). */
  requireClientCert?: boolean;
  /** Cipher suites, IANA or OpenSSL names, in preference order. Default: DEFAULT_CIPHER_SUITES. */
  ciphers?: string[];
  /**
   * OpenSSL security level; leave unset unless a suite needs it. Unset: OpenSSL's default, except 0 on OpenSSL 3.2+
   * when a CCM_8 suite is configured (OpenSSL 3.2+ allows CCM_8 only at level 0; see defaultSecurityLevel).
   */
  securityLevel?: number;
  /** Largest datagram we send (default 1200). */
  mtu?: number;
  /** Most peers (handshaking or established) at once (default 1000). */
  maxPeers?: number;
  /** A peer that has not finished its handshake after this is freed (default 30 s). */
  handshakeTimeoutMs?: number;
  /** An established peer silent this long is closed (default 10 min). */
  idleTimeoutMs?: number;
  /** New handshakes (cookie-verified ClientHellos) allowed per source IP address per second (default 100). */
  handshakesPerSourcePerSecond?: number;
  /**
   * Half-open handshakes (cookie exchange done, handshake not finished) one source address may hold (default 32);
   * a further one evicts that source's oldest. When maxPeers is reached, the oldest half-open handshake of the
   * source holding the most is evicted for a newcomer.
   */
  maxHalfOpenPerSource?: number;
  /** A handshaking peer that has sent nothing for this long is freed (default 10 s; a client retransmits sooner). */
  halfOpenTimeoutMs?: number;
  /** How often the cookie secret changes (default 60 s; the previous secret stays valid one period). */
  cookieSecretRotationMs?: number;
  /**
   * A cookie secret shared by every instance behind one load balancer (16 to 1024 bytes; a string counts as its
   * UTF-8 bytes). Each period's secret is then derived from it and the wall clock (period = cookieSecretRotationMs),
   * so a ClientHello whose cookie another instance made still completes here (RFC 6347 4.2.1). The instances'
   * clocks must agree within one period. Unset: a random secret of this socket's own. A secret: never logged.
   */
  cookieSecret?: Buffer | string;
  /**
   * Sits between the UDP socket and DTLS (e.g. the PROXY protocol behind a load balancer): every datagram
   * passes `inbound` before the record layer sees it (undefined drops it) and every send's destination
   * passes `outbound`. The peer DTLS keys its session on is the address `inbound` returns.
   */
  datagrams?: DatagramTranslator;
  logger?: DtlsLogger;
  /**
   * The clock, in ms, that the handshake rate windows, handshake timeouts and idle timeouts read (default
   * Date.now). The sweep still runs on a timer; a caller that passes a clock (a test stepping through rate
   * windows) decides when time moves.
   */
  clock?: () => number;
}

/** Counters of a DTLS socket. Carries no keys and no identities. */
export interface DtlsStats {
  peers: number;
  handshaking: number;
  established: number;
  datagramsIn: number;
  datagramsOut: number;
  helloVerifyRequests: number;
  handshakesStarted: number;
  handshakesCompleted: number;
  handshakesFailed: number;
  closedByPeer: number;
  dropped: {
    /** ClientHello from a new source while maxPeers peers exist. */
    maxPeers: number;
    /** ClientHello from a source past handshakesPerSourcePerSecond. */
    rateLimited: number;
    /** Datagram from an unknown source that is not a ClientHello. */
    notClientHello: number;
    /** Unknown-source datagram that OpenSSL rejected as a ClientHello. */
    invalidClientHello: number;
    /** send() to an address with no established session. */
    noSession: number;
  };
  expired: {
    handshakeTimeout: number;
    idleTimeout: number;
    /** Handshaking peers silent for halfOpenTimeoutMs. */
    halfOpenTimeout: number;
  };
  /** Half-open handshakes evicted for a newcomer: its source at maxHalfOpenPerSource, or the table at maxPeers. */
  evicted: { perSource: number; full: number };
  /** Source addresses holding half-open handshakes now. */
  halfOpenSources: number;
}

/** What a DTLS peer looks like from outside (no secrets). */
export interface DtlsPeerSummary {
  address: string;
  port: number;
  state: 'handshaking' | 'established';
  identity?: DtlsIdentity;
  cipher?: string;
  ageMs: number;
  idleMs: number;
}
