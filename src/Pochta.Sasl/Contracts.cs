namespace Pochta.Sasl;

/// <summary>Who a successful authentication proved the client to be.</summary>
public sealed record AuthenticatedUser(long AccountId, string Address);

public enum SaslStepKind
{
    /// <summary>Send <see cref="SaslStep.Data"/> as a challenge and feed the client's answer to the next step.</summary>
    Continue,

    /// <summary>Authenticated. <see cref="SaslStep.Data"/>, if not empty, is additional data with
    /// success (SCRAM server-final): SMTP/IMAP send it per RFC 4954 §4 / RFC 9051 §6.2.2.</summary>
    Success,

    /// <summary>Wrong credentials or unknown user; identical for both.</summary>
    Failure,

    /// <summary>The client's message was not valid for the mechanism.</summary>
    Malformed,
}

/// <summary>Raw (already base64-decoded) SASL data between the protocol and a mechanism.</summary>
public readonly record struct SaslStep(SaslStepKind Kind, ReadOnlyMemory<byte> Data, AuthenticatedUser? User);

/// <summary>One authentication exchange: a byte state machine (RFC 4422). The protocol
/// layer does base64, the <c>*</c> cancellation and the initial-response convention.</summary>
public interface ISaslServer
{
    string Mechanism { get; }

    /// <summary>Processes the client's next message (empty for "no initial response").</summary>
    ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientMessage, CancellationToken cancellationToken);
}

/// <summary>Verifies passwords and creates SASL exchanges against the directory.</summary>
public interface IAuthenticator
{
    /// <summary>Mechanisms to advertise; plaintext ones only when <paramref name="secure"/>.</summary>
    IReadOnlyList<string> GetMechanisms(bool secure);

    /// <summary>A new exchange, or null when the mechanism is unknown or not allowed.</summary>
    ISaslServer? CreateServer(string mechanism, bool secure);

    /// <summary>USER/PASS, LOGIN: null for an unknown user and a wrong password alike, in
    /// equal time (a dummy derivation runs for unknown users).</summary>
    Task<AuthenticatedUser?> VerifyPasswordAsync(string username, string password, CancellationToken cancellationToken);
}