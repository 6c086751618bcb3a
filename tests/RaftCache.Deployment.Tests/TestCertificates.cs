using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RaftCache.Deployment.Tests;

/// <summary>
/// Certificates made at run time in a temporary directory: a test CA (PEM), and PFX files of certificates it signed,
/// valid for 127.0.0.1 and localhost, for server and client authentication alike (a silo is both).
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string Password = "test-password";

    private readonly X509Certificate2 _ca;

    private TestCertificates(string directory, string name)
    {
        Directory = directory;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=RaftCache test CA {name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        CaPath = Path.Combine(directory, $"{name}-ca.pem");
        File.WriteAllText(CaPath, _ca.ExportCertificatePem());
    }

    public string Directory { get; }

    /// <summary>The CA certificate, PEM.</summary>
    public string CaPath { get; }

    /// <summary>A new CA named <paramref name="name"/> in <paramref name="directory"/> (a new temporary directory if null).</summary>
    public static TestCertificates Create(string name, string? directory = null)
    {
        directory ??= System.IO.Directory.CreateTempSubdirectory("raftcache-tls-").FullName;
        return new TestCertificates(directory, name);
    }

    /// <summary>Issues a certificate for <paramref name="subject"/> signed by this CA and writes it as a PFX with <see cref="Password"/>.</summary>
    public string Issue(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"), new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(_ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(30), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        var path = Path.Combine(Directory, $"{subject}.pfx");
        File.WriteAllBytes(path, withKey.Export(X509ContentType.Pkcs12, Password));
        return path;
    }

    /// <summary>Loads a PFX this class wrote.</summary>
    public static X509Certificate2 Load(string pfx) => X509CertificateLoader.LoadPkcs12FromFile(pfx, Password);

    /// <summary>Whether <paramref name="certificate"/> chains to this CA (the test client's validation, as the silos').</summary>
    public bool Trusts(X509Certificate2 certificate, SslPolicyErrors _)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public void Dispose()
    {
        _ca.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open; the temporary directory is the system's to clean.
        }
    }
}
