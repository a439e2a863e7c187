using Calc.Core.Hosting;
using Calc.Gateway;
using Calc.Gateway.Dashboard;
using Calc.Gateway.Forwarding;
using Calc.Gateway.Http;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("gateway");
builder.AddGateway();

var app = builder.Build();
app.UseStrictRequestHeads(); // 400 and a close for a head a strict parser refuses, before anything reads or forwards it
app.UseRouteForwarding(); // routed prefixes go straight to an instance: nothing below runs for them
app.UseServiceDefaults();
app.MapGateway();
app.MapDashboard();
app.Run();
