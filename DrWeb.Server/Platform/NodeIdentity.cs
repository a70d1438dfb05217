using Microsoft.Extensions.Options;

namespace DrWeb.Server.Platform;

/// <summary>This process as one node of an installation: its name and its roles (<c>DrWeb:NodeName</c>, <c>DrWeb:Roles</c>).</summary>
public sealed class NodeIdentity
{
    public const string Web = "web", Screening = "screening", Training = "training";

    public static readonly IReadOnlyList<string> AllRoles = [Web, Screening, Training];

    public NodeIdentity(IOptions<DrWebOptions> options)
    {
        var value = options.Value;
        Name = string.IsNullOrWhiteSpace(value.NodeName) ? Environment.MachineName : value.NodeName.Trim();
        Roles = ParseRoles(value.Roles);
    }

    public string Name { get; }

    /// <summary>The node's roles; every role when none are configured (one node does everything).</summary>
    public IReadOnlySet<string> Roles { get; }

    public bool Has(string role) => Roles.Contains(role);

    /// <summary>Accepts a list (<c>DrWeb__Roles__0=web</c>) or one comma-separated value (<c>DrWeb__Roles__0=web,training</c>).</summary>
    public static IReadOnlySet<string> ParseRoles(IEnumerable<string> configured)
    {
        var roles = configured.SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(r => r.ToLowerInvariant()).ToHashSet();
        if (roles.Count == 0) return AllRoles.ToHashSet();
        var unknown = roles.Except(AllRoles).ToList();
        if (unknown.Count > 0)
            throw new InvalidOperationException(
                $"DrWeb:Roles names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which is not a role. Use any of: {string.Join(", ", AllRoles)}.");
        return roles;
    }
}
