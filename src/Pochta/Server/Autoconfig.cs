using System.Globalization;
using System.Text;
using System.Xml;

using Pochta.Core;
using Pochta.Hosting;

namespace Pochta.Server;

/// <summary>
/// Mozilla autoconfig (the "clientConfig" v1.1 format Thunderbird, K-9 and others fetch from
/// <c>http://autoconfig.DOMAIN/mail/config-v1.1.xml</c>), built from the live listener table:
/// only listeners that are actually served are offered, implicit TLS first (RFC 8314 §5.1).
/// </summary>
internal static class Autoconfig
{
    public static string Build(string hostName, IReadOnlyList<string> domains, IReadOnlyList<ListenerInfo> listeners)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), OmitXmlDeclaration = false };
        var builder = new StringBuilder();
        using (var writer = XmlWriter.Create(new Utf8StringWriter(builder), settings))
        {
            writer.WriteStartDocument();
            writer.WriteStartElement("clientConfig");
            writer.WriteAttributeString("version", "1.1");
            writer.WriteStartElement("emailProvider");
            writer.WriteAttributeString("id", domains.Count > 0 ? domains[0] : hostName);
            foreach (var domain in domains)
            {
                writer.WriteElementString("domain", domain);
            }

            writer.WriteElementString("displayName", "Pochta on " + hostName);
            writer.WriteElementString("displayShortName", "Pochta");

            foreach (var (protocol, type, socketType) in Incoming)
            {
                foreach (var listener in listeners.Where(l => l.Protocol == protocol))
                {
                    WriteServer(writer, "incomingServer", type, hostName, listener.EndPoint.Port, socketType);
                }
            }

            foreach (var (protocol, type, socketType) in Outgoing)
            {
                foreach (var listener in listeners.Where(l => l.Protocol == protocol))
                {
                    WriteServer(writer, "outgoingServer", type, hostName, listener.EndPoint.Port, socketType);
                }
            }

            writer.WriteEndElement();
            writer.WriteEndElement();
            writer.WriteEndDocument();
        }

        return builder.ToString();
    }

    private static readonly (MailProtocol Protocol, string Type, string SocketType)[] Incoming =
    [
        (MailProtocol.Imaps, "imap", "SSL"),
        (MailProtocol.Imap, "imap", "STARTTLS"),
        (MailProtocol.Pop3s, "pop3", "SSL"),
        (MailProtocol.Pop3, "pop3", "STARTTLS"),
    ];

    // Port 25 (MX) is for other servers; clients submit on 465/587 (RFC 6409, RFC 8314).
    private static readonly (MailProtocol Protocol, string Type, string SocketType)[] Outgoing =
    [
        (MailProtocol.Submissions, "smtp", "SSL"),
        (MailProtocol.Submission, "smtp", "STARTTLS"),
    ];

    private static void WriteServer(XmlWriter writer, string element, string type, string hostName, int port, string socketType)
    {
        writer.WriteStartElement(element);
        writer.WriteAttributeString("type", type);
        writer.WriteElementString("hostname", hostName);
        writer.WriteElementString("port", port.ToString(CultureInfo.InvariantCulture));
        writer.WriteElementString("socketType", socketType);
        writer.WriteElementString("authentication", "password-cleartext");
        writer.WriteElementString("username", "%EMAILADDRESS%");
        writer.WriteEndElement();
    }

    private sealed class Utf8StringWriter(StringBuilder builder) : StringWriter(builder, CultureInfo.InvariantCulture)
    {
        public override Encoding Encoding => new UTF8Encoding(false);
    }
}