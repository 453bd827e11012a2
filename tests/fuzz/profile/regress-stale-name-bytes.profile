base =teaching

#(ñ
name =t6- 