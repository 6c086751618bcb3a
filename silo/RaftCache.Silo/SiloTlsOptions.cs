using RaftCache.Tls;

namespace RaftCache.Silo;

/// <summary>
/// TLS between silos and from clients, bound from the configuration section <c>Tls</c> and the command line. Off
/// unless a certificate is given.
/// </summary>
public sealed class SiloTlsOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Tls";

    /// <summary>A PFX (PKCS#12) file with this silo's certificate and private key (<c>--tls-certificate</c>).</summary>
    public string? Certificate { get; set; }

    /// <summary>The PFX file's password (<c>--tls-password</c>; better the environment variable <c>Tls__Password</c>).</summary>
    public string? Password { get; set; }

    /// <summary>
    /// Instead of a file: a subject name to find the certificate by in the current user's personal store,
    /// CurrentUser\My (<c>--tls-store-subject</c>).
    /// </summary>
    public string? StoreSubject { get; set; }

    /// <summary>
    /// A PEM or DER file with the CA certificate every remote certificate (silos', clients') must chain to
    /// (<c>--tls-ca</c>). Default: the machine's trust store.
    /// </summary>
    public string? Ca { get; set; }

    /// <summary>Whether clients must present a certificate that chains to the CA (<c>--tls-require-client-certificate</c>).</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>Whether TLS is asked for at all.</summary>
    public bool Enabled => Certificate is not null || StoreSubject is not null;

    /// <summary>Loads the certificates; null when TLS is off or on errors, each of which is added to <paramref name="errors"/>.</summary>
    internal ClusterTls? Load(List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!Enabled)
        {
            if (Ca is not null || Password is not null || RequireClientCertificate)
                errors.Add("--tls-ca, --tls-password and --tls-require-client-certificate need a certificate: --tls-certificate PATH or --tls-store-subject NAME.");
            return null;
        }

        if (Certificate is not null && StoreSubject is not null)
        {
            errors.Add("Give either --tls-certificate or --tls-store-subject, not both.");
            return null;
        }

        var certificate = Certificate is { } path
            ? ClusterTls.LoadPfx(path, Password, "--tls-certificate (Tls:Certificate)", "--tls-password or Tls:Password", errors)
            : ClusterTls.LoadFromStore(StoreSubject!, "--tls-store-subject (Tls:StoreSubject)", errors);
        var ca = Ca is { } caPath ? ClusterTls.LoadCa(caPath, "--tls-ca (Tls:Ca)", errors) : null;
        return certificate is null || (Ca is not null && ca is null) ? null : new ClusterTls(certificate, ca, RequireClientCertificate);
    }
}
