using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 2449 §5 CAPA. What is offered depends on the state and the connection: USER only
/// where plaintext passwords are allowed, SASL with the mechanisms allowed on this connection and
/// STLS only before TLS, all three only in AUTHORIZATION. APOP is never offered (see ApopHandler).</summary>
internal sealed class CapaHandler : IPop3CommandHandler
{
    public Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var w = session.Writer;
        var connection = session.Connection;
        var options = session.Services.Options;
        var authorization = session.State == Pop3State.Authorization;
        session.Ok("Capability list follows"u8);
        Pop3ResponseWriter.Line(w, "TOP"u8);
        Pop3ResponseWriter.Line(w, "UIDL"u8);
        if (authorization && connection.IsSecure)
        {
            Pop3ResponseWriter.Line(w, "USER"u8);
        }

        if (authorization)
        {
            var mechanisms = session.Services.Authenticator.GetMechanisms(connection.IsSecure);
            if (mechanisms.Count > 0)
            {
                Pop3ResponseWriter.Line(w, "SASL " + string.Join(' ', mechanisms));
            }
        }

        Pop3ResponseWriter.Line(w, "RESP-CODES"u8);
        Pop3ResponseWriter.Line(w, "AUTH-RESP-CODE"u8);
        Pop3ResponseWriter.Line(w, "PIPELINING"u8);
        if (authorization && connection.CanStartTls)
        {
            Pop3ResponseWriter.Line(w, "STLS"u8);
        }

        // RFC 2449 §6.7: days a retrieved message may stay, or NEVER.
        if (options.ExpireDays is { } days)
        {
            Pop3ResponseWriter.Line(w, "EXPIRE"u8, days);
        }
        else
        {
            Pop3ResponseWriter.Line(w, "EXPIRE NEVER"u8);
        }

        if (options.LoginDelaySeconds is > 0 and var delay)
        {
            Pop3ResponseWriter.Line(w, "LOGIN-DELAY"u8, delay);
        }

        // RFC 6856 §2: "UTF8 USER" says USER accepts UTF-8 names.
        Pop3ResponseWriter.Line(w, authorization && connection.IsSecure ? "UTF8 USER"u8 : "UTF8"u8);
        Pop3ResponseWriter.Line(w, "IMPLEMENTATION Pochta"u8);
        Pop3ResponseWriter.EndMultiline(w);
        return Task.CompletedTask;
    }
}