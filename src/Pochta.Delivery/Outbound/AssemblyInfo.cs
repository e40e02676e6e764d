using System.Runtime.CompilerServices;

// The outbound tests drive DestinationSession and OutboundSmtpClient directly.
[assembly: InternalsVisibleTo("Pochta.Delivery.Tests")]