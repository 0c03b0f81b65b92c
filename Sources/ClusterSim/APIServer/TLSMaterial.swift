import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A throwaway certificate authority and a server certificate for `127.0.0.1`/`localhost`, generated at start
/// (ECDSA P-256). Put `caPEM` into a kubeconfig as `certificate-authority-data` so clients verify the server.
public struct TLSMaterial: Sendable {
    /// The CA certificate (PEM) that signed the server certificate.
    public let caPEM: String
    /// The server certificate (PEM).
    public let certificatePEM: String
    /// The server's private key (PEM).
    public let privateKeyPEM: String

    /// Generates a CA and a server certificate valid for `hosts` (DNS names or IP addresses) for one year.
    public static func generate(hosts: [String] = ["127.0.0.1", "localhost"], now: Date = Date()) throws -> TLSMaterial {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("ClusterSim")
            CommonName("clustersim-ca")
        }
        let caSKI = SubjectKeyIdentifier(hash: Certificate.PublicKey(caKey.publicKey))
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                caSKI
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))

        let serverKey = P256.Signing.PrivateKey()
        let serverName = try DistinguishedName {
            OrganizationName("ClusterSim")
            CommonName("clustersim-apiserver")
        }
        var names: [GeneralName] = []
        for host in hosts {
            if let ip = ipv4Bytes(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ip[...])))
            } else {
                names.append(.dnsName(host))
            }
        }
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(serverKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: caName, subject: serverName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                AuthorityKeyIdentifier(keyIdentifier: caSKI.keyIdentifier)
                SubjectKeyIdentifier(hash: Certificate.PublicKey(serverKey.publicKey))
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        return TLSMaterial(
            caPEM: try ca.serializeAsPEM().pemString + "\n",
            certificatePEM: try server.serializeAsPEM().pemString + "\n",
            privateKeyPEM: serverKey.pemRepresentation + "\n")
    }

    static func ipv4Bytes(_ host: String) -> [UInt8]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard let b = UInt8(p) else { return nil }
            out.append(b)
        }
        return out
    }

    /// The NIOSSL server configuration (HTTP/1.1 only; Go clients fall back from h2 via ALPN).
    func serverConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        config.applicationProtocols = ["http/1.1"]
        return config
    }
}
