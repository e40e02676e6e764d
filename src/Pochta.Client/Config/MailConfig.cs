using System.Text.Json.Serialization;

namespace Pochta.Client.Config;

/// <summary>How a connection is secured.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TransportSecurity>))]
public enum TransportSecurity
{
    /// <summary>TLS from the first byte (ports 993, 995, 465; RFC 8314).</summary>
    Tls,

    /// <summary>Plain connect, then STARTTLS/STLS; the upgrade is required.</summary>
    StartTls,

    /// <summary>No TLS at all. Only when asked for (loopback test servers).</summary>
    None,
}

/// <summary>One server of an account.</summary>
public sealed record ServerEndpoint(string Host, int Port, TransportSecurity Security)
{
    public override string ToString() => $"{Host}:{Port}";
}

/// <summary>An account in mail.json. The password is never stored unless the user asked
/// (<see cref="Password"/>); otherwise it comes from POCHTA_MAIL_PASSWORD, a 0600 file or a prompt.</summary>
public sealed record AccountConfig
{
    public required string Name { get; init; }

    public required string Address { get; init; }

    public string? DisplayName { get; init; }

    /// <summary>Login name; the address when absent.</summary>
    public string? Login { get; init; }

    public ServerEndpoint? Imap { get; init; }

    public ServerEndpoint? Smtp { get; init; }

    public ServerEndpoint? Pop3 { get; init; }

    /// <summary>A file holding the password, readable by the owner only (mode 0600).</summary>
    public string? PasswordFile { get; init; }

    /// <summary>Stored only with <c>account add --store-password</c>.</summary>
    public string? Password { get; init; }

    /// <summary>An extra trust anchor (PEM) for this account's servers, e.g. a private CA.</summary>
    public string? CaFile { get; init; }

    public string LoginName => Login ?? Address;
}

/// <summary>The whole configuration file.</summary>
public sealed record MailConfig
{
    public string? DefaultAccount { get; init; }

    public IReadOnlyList<AccountConfig> Accounts { get; init; } = [];
}