using DrWeb.Server.Platform;

namespace DrWeb.Server.Hosting;

/// <summary>
/// Puts the node's name into the logging scope of every request, beside the request id ASP.NET Core adds, so that logs
/// gathered from several nodes say where each line came from (training runs add their own scope with the run id).
/// </summary>
public static class NodeLogScope
{
    public static void UseNodeLogScope(this IApplicationBuilder app)
    {
        var node = app.ApplicationServices.GetRequiredService<NodeIdentity>();
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("DrWeb.Node");
        // A message-template scope prints as "Node:web-1" with the simple console formatter and as a "Node" property
        // with the JSON one.
        app.Use(async (context, next) =>
        {
            using (logger.BeginScope("Node:{Node}", node.Name))
                await next();
        });
    }
}
