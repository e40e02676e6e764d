using System.Text;

using Pochta.Sasl;

namespace Pochta.Smtp.Tests.Support;

/// <summary>PLAIN and LOGIN against a fixed user table, for transcript tests that do not exercise the
/// real Authenticator (which the Sqlite-backed tests use).</summary>
internal sealed class TestAuthenticator(Dictionary<string, (long Id, string Password)> users) : IAuthenticator
{
    public IReadOnlyList<string> GetMechanisms(bool secure) => secure ? ["PLAIN", "LOGIN"] : [];

    public ISaslServer? CreateServer(string mechanism, bool secure) => !secure ? null : mechanism switch
    {
        "PLAIN" => new Plain(this),
        "LOGIN" => new Login(this),
        _ => null,
    };

    public Task<AuthenticatedUser?> VerifyPasswordAsync(string username, string password, CancellationToken cancellationToken) =>
        Task.FromResult(users.TryGetValue(username, out var u) && u.Password == password ? new AuthenticatedUser(u.Id, username) : null);

    private sealed class Plain(TestAuthenticator owner) : ISaslServer
    {
        public string Mechanism => "PLAIN";

        public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientMessage, CancellationToken cancellationToken)
        {
            if (clientMessage.IsEmpty)
            {
                return new SaslStep(SaslStepKind.Continue, default, null);
            }

            var parts = Encoding.UTF8.GetString(clientMessage.Span).Split('\0');
            if (parts.Length != 3)
            {
                return new SaslStep(SaslStepKind.Malformed, default, null);
            }

            var user = await owner.VerifyPasswordAsync(parts[1], parts[2], cancellationToken);
            return new SaslStep(user is null ? SaslStepKind.Failure : SaslStepKind.Success, default, user);
        }
    }

    private sealed class Login(TestAuthenticator owner) : ISaslServer
    {
        private string? _user;
        private bool _started;

        public string Mechanism => "LOGIN";

        public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientMessage, CancellationToken cancellationToken)
        {
            if (!_started)
            {
                _started = true;
                if (clientMessage.IsEmpty)
                {
                    return new SaslStep(SaslStepKind.Continue, "Username:"u8.ToArray(), null);
                }
            }

            if (_user is null)
            {
                _user = Encoding.UTF8.GetString(clientMessage.Span);
                return new SaslStep(SaslStepKind.Continue, "Password:"u8.ToArray(), null);
            }

            var user = await owner.VerifyPasswordAsync(_user, Encoding.UTF8.GetString(clientMessage.Span), cancellationToken);
            return new SaslStep(user is null ? SaslStepKind.Failure : SaslStepKind.Success, default, user);
        }
    }
}