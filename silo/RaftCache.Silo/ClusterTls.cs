using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace RaftCache.Tls;

/// <summary>
/// The TLS material of a silo or client: its own certificate (optional for a client), the CA that remote
/// certificates must chain to (null: the machine's trust store), and whether clients must present a certificate.
/// Shared as source by the silo host and the CLI, so that both load and validate certificates the same way.
/// </summary>
/// <param name="Certificate">This process's certificate with its private key; null for a client without one.</param>
/// <param name="Ca">The trusted CA certificates; null to use the machine's trust store.</param>
/// <param name="RequireClientCertificate">Silo: whether the gateway requires clients to present a certificate.</param>
internal sealed record ClusterTls(X509Certificate2? Certificate, X509Certificate2Collection? Ca, bool RequireClientCertificate)
{
    /// <summary>
    /// Loads a PFX (PKCS#12) file with its password; a missing file or a wrong password becomes a message naming
    /// <paramref name="option"/> and <paramref name="passwordOption"/>.
    /// </summary>
    public static X509Certificate2? LoadPfx(string path, string? password, string option, string passwordOption, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!File.Exists(path))
        {
            errors.Add($"{option}: the file '{path}' does not exist.");
            return null;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (CryptographicException e)
        {
            errors.Add($"{option}: '{path}' cannot be read as a PFX (PKCS#12) file with the password given ({passwordOption}): {e.Message}");
            return null;
        }

        if (!certificate.HasPrivateKey)
        {
            errors.Add($"{option}: '{path}' holds no private key; TLS needs the certificate's private key.");
            certificate.Dispose();
            return null;
        }

        return certificate;
    }

    /// <summary>
    /// The newest unexpired certificate with a private key in the current user's personal store (CurrentUser\My)
    /// whose subject contains <paramref name="subject"/>, as Orleans' own store loader matches.
    /// </summary>
    public static X509Certificate2? LoadFromStore(string subject, string option, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
        store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        var now = DateTime.Now;
        var found = store.Certificates.Find(X509FindType.FindBySubjectName, subject, validOnly: false)
            .Where(c => c.HasPrivateKey && c.NotBefore <= now && now <= c.NotAfter)
            .OrderByDescending(c => c.NotAfter)
            .FirstOrDefault();
        if (found is null) errors.Add($"{option}: no unexpired certificate with a private key whose subject contains '{subject}' is in the CurrentUser\\My store.");
        return found;
    }

    /// <summary>Loads the CA certificates of a PEM file (one or more certificates) or a DER file.</summary>
    public static X509Certificate2Collection? LoadCa(string path, string option, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!File.Exists(path))
        {
            errors.Add($"{option}: the file '{path}' does not exist.");
            return null;
        }

        try
        {
            var certificates = new X509Certificate2Collection();
            if (File.ReadAllText(path).Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)) certificates.ImportFromPemFile(path);
            else certificates.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            if (certificates.Count == 0) errors.Add($"{option}: '{path}' holds no certificate.");
            return certificates;
        }
        catch (CryptographicException e)
        {
            errors.Add($"{option}: '{path}' cannot be read as a PEM or DER certificate: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// Whether a remote certificate is trusted. With a CA, the certificate must chain to it (and only to it): a
    /// cluster's own CA is what makes a process a member, and silos address each other by IP addresses taken from the
    /// membership table, so host names are not compared. Without one, .NET's default validation (the machine's
    /// trust store, and the host name on the client side) must have found nothing wrong.
    /// </summary>
    public bool IsTrusted(X509Certificate2 certificate, X509Chain? presented, SslPolicyErrors errors, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        reason = null;
        if (Ca is null)
        {
            if (errors == SslPolicyErrors.None) return true;
            reason = $"{errors} (subject '{certificate.Subject}', issuer '{certificate.Issuer}')";
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Intermediates the peer sent along.
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                if (!element.Certificate.Equals(certificate)) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (chain.Build(certificate)) return true;
        var statuses = chain.ChainStatus.Select(s => s.Status.ToString()).Distinct();
        reason = $"subject '{certificate.Subject}', issuer '{certificate.Issuer}' does not chain to the trusted CA ({string.Join(", ", statuses)})";
        return false;
    }

    /// <summary>
    /// Orleans TLS options for one direction of connections. <paramref name="requireRemoteCertificate"/>: whether the
    /// remote end must present a certificate (always for servers; for clients of a gateway only when required).
    /// <paramref name="onRejected"/> hears why a remote certificate was refused.
    /// </summary>
    public TlsOptions Options(bool requireRemoteCertificate, Action<string>? onRejected = null)
    {
        var options = new TlsOptions
        {
            LocalCertificate = Certificate,
            RemoteCertificateMode = requireRemoteCertificate ? RemoteCertificateMode.RequireCertificate : RemoteCertificateMode.AllowCertificate,
            // Send the certificate whenever there is one: silos always have one, and a client's is its identity.
            ClientCertificateMode = Certificate is null ? RemoteCertificateMode.NoCertificate : RemoteCertificateMode.AllowCertificate,
            RemoteCertificateValidation = (certificate, chain, errors) =>
            {
                if (IsTrusted(certificate, chain, errors, out var reason)) return true;
                onRejected?.Invoke(reason!);
                return false;
            },
        };
        if (Ca is null)
        {
            // Without a cluster CA the host name is checked, which needs one: the address connected to.
            options.OnAuthenticateAsClient = (connection, authentication) =>
            {
                if (connection.RemoteEndPoint is IPEndPoint remote) authentication.TargetHost = remote.Address.ToString();
            };
        }

        return options;
    }
}
