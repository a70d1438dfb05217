using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace DrWeb.Tests.Scratch;

public class DebugTests(ITestOutputHelper output)
{
    [PostgresFact]
    public async Task Doctor()
    {
        using var f = new DrWebFactory(DatabaseProvider.Postgres);
        _ = f.Server;
        using (var scope = f.Services.CreateScope())
            await scope.ServiceProvider.GetRequiredService<DrWeb.Server.Accounts.AccountSetup>().CreateAsync("doc@drweb.test", DrWebFactory.Password, "Doctor");
        var client = f.CreateClient();
        var g = await client.GetAsync("/account/login");
        output.WriteLine((await g.Content.ReadAsStringAsync())[..3000]);
        var r = await DrWebFactory.SignInAsync(client, "doc@drweb.test", DrWebFactory.Password);
        output.WriteLine($"{(int)r.StatusCode} {r.RequestMessage!.RequestUri}");
        string body = await r.Content.ReadAsStringAsync();
        int i = body.IndexOf("alert"); output.WriteLine(i >= 0 ? body.Substring(i, Math.Min(600, body.Length - i)) : body[..Math.Min(2000, body.Length)]);
        var r2 = await DrWebFactory.SignInAsync(client, DrWebFactory.AdminEmail, DrWebFactory.Password);
        output.WriteLine($"admin: {(int)r2.StatusCode} {r2.RequestMessage!.RequestUri}");
        await using var db = await f.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContextAsync();
        foreach (var a in db.AuditEntries.ToList()) output.WriteLine($"{a.Action} {a.Actor} {a.Detail}");
        foreach (var u in db.Users.ToList()) output.WriteLine($"{u.Email} {u.UserName} {u.NormalizedUserName} {u.LockoutEnd}");
    }
}
