using System.Net;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Pochta.Delivery.Inbound;
using Pochta.Hosting;
using Pochta.Sasl;
using Pochta.Smtp.Protocol;

namespace Pochta.Smtp;

/// <summary>Free space where message bodies are staged (452 4.3.1 when low).</summary>
public interface IDiskSpaceProbe
{
    /// <summary>Available octets, or null when unknown (then nothing is refused).</summary>
    long? GetAvailableBytes();
}

/// <summary>Reads free space of the volume holding <c>Storage:DataDirectory</c> (or the working directory).</summary>
public sealed class DataDirectoryDiskSpaceProbe(Microsoft.Extensions.Configuration.IConfiguration? configuration = null) : IDiskSpaceProbe
{
    public long? GetAvailableBytes()
    {
        try
        {
            var path = Path.GetFullPath(configuration?["Storage:DataDirectory"] is { Length: > 0 } p ? p : ".");
            while (!Directory.Exists(path) && Path.GetDirectoryName(path) is { } parent)
            {
                path = parent;
            }

            return new DriveInfo(path).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}

/// <summary>Everything a session needs that outlives it (one per server).</summary>
public sealed class SmtpServerContext
{
    public SmtpServerContext(
        IOptions<SmtpOptions> options,
        IOptions<ServerOptions> server,
        InboundDelivery delivery,
        IAuthenticator authenticator,
        IDiskSpaceProbe diskSpace,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        Options = options.Value;
        Server = server.Value;
        Delivery = delivery;
        Authenticator = authenticator;
        DiskSpace = diskSpace;
        Time = time;
        Logger = loggerFactory.CreateLogger("Pochta.Smtp");
        Limits = new SmtpParserLimits
        {
            MaxCommandLineLength = Options.MaxCommandLineLength,
            MaxParameterLineLength = Options.MaxParameterLineLength,
            MaxAuthLineLength = Options.MaxAuthLineLength,
            MaxTextLineLength = Options.MaxTextLineLength,
        };
        TrustedNetworks = [.. Options.TrustedNetworks.Select(ParseNetwork)];
    }

    public SmtpOptions Options { get; }

    public ServerOptions Server { get; }

    public InboundDelivery Delivery { get; }

    public IAuthenticator Authenticator { get; }

    public IDiskSpaceProbe DiskSpace { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public SmtpParserLimits Limits { get; }

    public IReadOnlyList<IPNetwork> TrustedNetworks { get; }

    public bool IsTrusted(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var network in TrustedNetworks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    private static IPNetwork ParseNetwork(string text) =>
        IPNetwork.TryParse(text, out var network) ? network
        : IPAddress.TryParse(text, out var single) ? new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
        : throw new OptionsValidationException(SmtpOptions.Section, typeof(SmtpOptions), ["Smtp:TrustedNetworks: not a CIDR network: " + text]);
}