using Calc.Calculations;
using Calc.Core.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("calculations");
builder.AddCalculations();

var app = builder.Build();
app.UseServiceDefaults();
app.MapCalculations();
app.Run();
