using System.Net;
using System.Net.Sockets;

namespace ProspectEvents.Testing;

/// <summary>Ports on 127.0.0.1 for the servers a test or benchmark starts.</summary>
public static class Loopback
{
    /// <summary>A port the OS says is free (released before it is returned; another process could take it first, rarely).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
