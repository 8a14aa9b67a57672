/**
 * HTTPS upstreams for tests: a private test CA and two server certificates it signed, one for
 * `localhost` and 127.0.0.1 and one for `other.test` only (a name mismatch). Valid 2020–2120, so
 * they never need renewing. Generated once with openssl (P-256 keys); test-only, never trusted
 * anywhere else. A client trusts them with `tls: { caCerts: [TEST_CA] }` (an upstream's config or
 * `Http1Client`'s options); without it, only the default roots are trusted and the certificate's
 * issuer is unknown.
 */

/** The test CA's certificate (PEM). */
export const TEST_CA = `-----BEGIN CERTIFICATE-----
MIIBZTCCAQqgAwIBAgICEAAwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNRmVycnkg
VGVzdCBDQTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAwMDAwMFowGDEWMBQG
A1UEAwwNRmVycnkgVGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBt9
jJ91FCgonDf8gEWRfoS8TVDW+QgFZeH+CwWSDd7r9Hcpb/GPkr6HCUUJ5Do6I/fP
ggPohZN63omPEVtJwvqjQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD
AgIEMB0GA1UdDgQWBBQsEPwiz58vdhEmVMbsM+K5CiDC8zAKBggqhkjOPQQDAgNJ
ADBGAiEA6iBnHS94BCebQfApHniKClMvSUQJIYM73wYGA6ZCKEUCIQCUWiLhIE0/
NXYtd5kwHTplCO+/KQOrGz5x3dsHk7AFJQ==
-----END CERTIFICATE-----
`;

export const LOCALHOST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUKgAwIBAgICEAEwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNRmVycnkg
VGVzdCBDQTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAwMDAwMFowFDESMBAG
A1UEAwwJbG9jYWxob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6wnwAVsV
Lnsuv2kinnYjxhsuNHFq+0/pe4BEfSwF4UAXmJZSojJA+9fDMGqA4KDxCSaUdVYu
F1jsZ4jYXpEnKaN+MHwwCQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcDATAa
BgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwHQYDVR0OBBYEFL7L22DuZObA43Kw
egxTrnR/XaIZMB8GA1UdIwQYMBaAFCwQ/CLPny92ESZUxuwz4rkKIMLzMAoGCCqG
SM49BAMCA0cAMEQCIF6qYD+NteCPYKEVXM8I+sA/Goig4NN6jvNh0ZwbKZqpAiA4
UTO+RtzF4+3Bgac5w7NGdz2pr6eg/xJAHPSmGWh3hg==
-----END CERTIFICATE-----
`;

export const LOCALHOST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgi5mSKhg6HjX4Fk3C
drfcoX5MAcRJNgxplH/Cf64TGjehRANCAATrCfABWxUuey6/aSKediPGGy40cWr7
T+l7gER9LAXhQBeYllKiMkD718MwaoDgoPEJJpR1Vi4XWOxniNhekScp
-----END PRIVATE KEY-----
`;

const OTHER_NAME_CERT = `-----BEGIN CERTIFICATE-----
MIIBlzCCAT6gAwIBAgICEAIwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNRmVycnkg
VGVzdCBDQTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAwMDAwMFowFTETMBEG
A1UEAwwKb3RoZXIudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGWIg9Vm
V5mSP61mCzXNSflHB17iLlhXpANaFOCXeRudxB1ZWXMsEzwntTJ6u3xDhICy23aZ
/g13mbwafIGmNsmjeTB3MAkGA1UdEwQCMAAwEwYDVR0lBAwwCgYIKwYBBQUHAwEw
FQYDVR0RBA4wDIIKb3RoZXIudGVzdDAdBgNVHQ4EFgQU+sy6FTLRmxshCQVQVAeV
QscdGyYwHwYDVR0jBBgwFoAULBD8Is+fL3YRJlTG7DPiuQogwvMwCgYIKoZIzj0E
AwIDRwAwRAIgA09/ftBhjqGkHqFAatIaZyy/vJt8/03oS82mKzrmehQCIAt988O/
UBAtgfklzytp8CnCKMObbYA/uBCbjnmUqcfi
-----END CERTIFICATE-----
`;

const OTHER_NAME_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFUfs5JbXlYzTyrY/
veFxpatnAllg4y2edPvd5r6lkl6hRANCAARliIPVZleZkj+tZgs1zUn5Rwde4i5Y
V6QDWhTgl3kbncQdWVlzLBM8J7Uyert8Q4SAstt2mf4Nd5m8GnyBpjbJ
-----END PRIVATE KEY-----
`;

/** A running HTTPS upstream; `url` names it `localhost`, which its default certificate covers. */
export interface TlsUpstream {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts a `Deno.serve` HTTPS upstream (HTTP/2 or HTTP/1.1 by ALPN) on an ephemeral port.
 * `certificate: "other-name"` serves a certificate valid only for `other.test`.
 */
export function startTlsUpstream(
  handler: (req: Request) => Response | Promise<Response>,
  options: { certificate?: "localhost" | "other-name" } = {},
): TlsUpstream {
  const other = options.certificate === "other-name";
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: other ? OTHER_NAME_CERT : LOCALHOST_CERT,
    key: other ? OTHER_NAME_KEY : LOCALHOST_KEY,
    onListen() {},
  }, handler);
  return {
    url: `https://localhost:${server.addr.port}`,
    port: server.addr.port,
    close: () => server.shutdown(),
  };
}
