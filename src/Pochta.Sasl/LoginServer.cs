namespace Pochta.Sasl;

/// <summary>LOGIN (draft-murchison-sasl-login-00): challenges "Username:" then "Password:".
/// An initial response, when sent, is the user name (the draft allows it; Outlook and
/// Thunderbird variants do it).</summary>
internal sealed class LoginServer(Authenticator authenticator) : ISaslServer
{
    private const int MaxFieldLength = 1024;

    private static readonly ReadOnlyMemory<byte> UsernameChallenge = "Username:"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> PasswordChallenge = "Password:"u8.ToArray();

    private State _state = State.Start;
    private string? _username;

    private enum State
    {
        Start,
        AwaitUsername,
        AwaitPassword,
        Done,
    }

    public string Mechanism => SaslMechanisms.Login;

    public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientMessage, CancellationToken cancellationToken)
    {
        switch (_state)
        {
            case State.Start when clientMessage.IsEmpty:
                _state = State.AwaitUsername;
                return new SaslStep(SaslStepKind.Continue, UsernameChallenge, null);
            case State.Start:
            case State.AwaitUsername:
                if (!TryField(clientMessage.Span, out _username))
                {
                    return Malformed();
                }

                _state = State.AwaitPassword;
                return new SaslStep(SaslStepKind.Continue, PasswordChallenge, null);
            case State.AwaitPassword:
                if (!TryField(clientMessage.Span, out var password))
                {
                    return Malformed();
                }

                _state = State.Done;
                var user = await authenticator.VerifyPasswordAsync(_username!, password, cancellationToken).ConfigureAwait(false);
                _username = null;
                return user is null
                    ? new SaslStep(SaslStepKind.Failure, default, null)
                    : new SaslStep(SaslStepKind.Success, default, user);
            default:
                return Malformed();
        }
    }

    private SaslStep Malformed()
    {
        _state = State.Done;
        _username = null;
        return new SaslStep(SaslStepKind.Malformed, default, null);
    }

    private static bool TryField(ReadOnlySpan<byte> data, out string value)
    {
        value = string.Empty;
        return !data.IsEmpty && data.Length <= MaxFieldLength && !data.Contains((byte)0)
            && SaslText.TryDecodeUtf8(data, out value);
    }
}