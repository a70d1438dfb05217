using DrWeb.Server.Platform.Database;

namespace DrWeb.Tests.Support;

/// <summary>
/// One app host per database provider, made when a test first asks for it: a test class whose facts are theories over
/// <see cref="SqliteDataAttribute"/> and <see cref="PostgresDataAttribute"/> runs the same assertions on both.
/// </summary>
public sealed class ProviderHosts : IDisposable
{
    private readonly Dictionary<DatabaseProvider, DrWebFactory> _hosts = [];
    private readonly Lock _gate = new();

    public DrWebFactory this[DatabaseProvider provider]
    {
        get
        {
            lock (_gate)
            {
                if (!_hosts.TryGetValue(provider, out var host))
                    _hosts[provider] = host = DrWebFactory.On(provider);
                return host;
            }
        }
    }

    public void Dispose()
    {
        foreach (var host in _hosts.Values) host.Dispose();
    }
}
