using Pochta.Pop3.Protocol;

namespace Pochta.Pop3.Handlers;

/// <summary>RFC 1939 §5 RSET: unmarks every message marked deleted.</summary>
internal sealed class RsetHandler : IPop3CommandHandler
{
    public Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var maildrop = session.Maildrop!;
        maildrop.UnmarkAll();
        Pop3ResponseWriter.MaildropSummary(session.Writer, maildrop.LiveCount, maildrop.LiveSize);
        return Task.CompletedTask;
    }
}