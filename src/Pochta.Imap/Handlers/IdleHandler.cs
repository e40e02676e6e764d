using Pochta.Imap.Protocol;

namespace Pochta.Imap.Handlers;

/// <summary>RFC 2177 / RFC 9051 §6.3.13 IDLE: "+ idling", then mailbox updates are pushed as soon
/// as the change bus signals (no polling) until the client sends DONE.</summary>
internal sealed class IdleHandler : CommandHandler<IdleCommand>
{
    protected override async Task<CommandResult> ExecuteAsync(ImapSession session, IdleCommand command, CancellationToken cancellationToken)
    {
        session.Writer.Continuation("idling");
        if (session.Selected is { } first)
        {
            await first.SyncAsync(session, mayExpunge: true, cancellationToken);
        }

        await session.FlushAsync(cancellationToken);
        using var timer = session.StartAutologoutTimer(cancellationToken);
        var readTask = session.Input.ReadAsync(timer.Token).AsTask();
        while (true)
        {
            var selected = session.Selected;
            selected?.ResetSignal();
            if (selected is { IsDirty: true })
            {
                await selected.SyncAsync(session, mayExpunge: true, cancellationToken);
                await session.FlushAsync(cancellationToken);
                continue;
            }

            var changed = selected?.WaitForChangeAsync() ?? Task.Delay(Timeout.Infinite, cancellationToken);
            var done = await Task.WhenAny(readTask, changed);
            if (done != readTask)
            {
                continue;
            }

            System.IO.Pipelines.ReadResult read;
            try
            {
                read = await readTask;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                session.Writer.UntaggedStatus(ImapStatus.Bye, null, "Autologout; idle for too long");
                session.EndLogout();
                return CommandResult.AlreadySent;
            }
            catch (OperationCanceledException)
            {
                // Server shutdown while idling: every update so far is flushed (RFC 9051 §7.1.5).
                await session.ByeOnShutdownAsync();
                throw new SessionEndedException();
            }

            var line = session.TryTakeLine(read, out var status);
            if (status == Protocol.ReadStatus.Fatal || (line is null && (read.IsCompleted || read.IsCanceled)))
            {
                throw new SessionEndedException();
            }

            if (line is null)
            {
                readTask = session.Input.ReadAsync(timer.Token).AsTask();
                continue;
            }

            // RFC 2177 §3: DONE ends IDLE; anything else is a protocol error.
            return line.Length == 4 && System.Text.Ascii.EqualsIgnoreCase(line, "DONE"u8)
                ? CommandResult.Ok("IDLE terminated")
                : CommandResult.Bad("Expected DONE");
        }
    }
}